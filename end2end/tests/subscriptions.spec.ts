import { expect, test, type Page } from "@playwright/test";
import { enterCard, hydrated, keywardCli, signUp } from "./helpers";
import { keywardURL, localstripeURL, stripeWebhookSecret } from "../playwright.config";

// Subscriptions against localstripe: its stand-in for Stripe.js draws the card form,
// its Billing API keeps the customer, the plan and the subscription, and it sends
// signed webhooks to Keyward (applied once each, after the page's own answer).
test.beforeAll(async () => {
  const registered = await fetch(`${localstripeURL}/_config/webhooks/keyward-e2e`, {
    method: "POST",
    body: new URLSearchParams({ url: `${keywardURL}/webhooks/stripe`, secret: stripeWebhookSecret }),
  });
  expect(registered.ok).toBe(true);
});

async function openSubscription(page: Page) {
  await page.getByRole("link", { name: "Subscription", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Subscription", level: 1 })).toBeVisible();
  await hydrated(page);
}

test("subscribe to Standard monthly by card, see the included credits, cancel and resume", async ({ page }) => {
  const email = await signUp(page);
  await openSubscription(page);
  const current = page.getByRole("region", { name: "Free plan" });
  await expect(current.getByText("Free", { exact: true })).toBeVisible();
  const standard = page.getByRole("article", { name: "Standard plan" });
  await expect(standard.getByText("$20.00 / month")).toBeVisible();
  await page.getByRole("radio", { name: "Yearly" }).check();
  await expect(standard.getByText("$200.00 / year")).toBeVisible();
  await page.getByRole("radio", { name: "Monthly" }).check();

  // A declined card: the provider's message beside the card, and no plan.
  await standard.getByRole("button", { name: "Choose Standard" }).click();
  const form = page.getByRole("form", { name: "Subscribe to Standard" });
  await expect(form.getByRole("button", { name: "Subscribe for $20.00" })).toBeEnabled();
  await enterCard(page, "4000000000000341");
  await form.getByRole("button", { name: "Subscribe for $20.00" }).click();
  await expect(form.getByRole("alert")).toContainText("declined");
  // Subscribing is an order at checkout; a decline leaves the person there, on no plan.
  await expect(page).toHaveURL(/\/account\/subscription\/checkout\/standard\?interval=month$/);
  await expect(page.getByRole("heading", { name: "Checkout", level: 1 })).toBeVisible();
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `screenshots/subscription-checkout-${width}-light.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  await enterCard(page, "4242424242424242");
  await form.getByRole("button", { name: "Subscribe for $20.00" }).click();
  const plan = page.getByRole("region", { name: "Standard plan" });
  await expect(plan.getByText("Active", { exact: true })).toBeVisible();
  await expect(plan.getByText("$20.00 per month")).toBeVisible();
  await expect(plan.getByText(/^Renews on /)).toBeVisible();
  await expect(plan.getByText(/Card on file: .* ending in 4242, expires 12\/2030/)).toBeVisible();
  await expect(standard.getByText("Current")).toBeVisible();
  const invoices = page.getByRole("table", { name: "Invoices, newest first" });
  await expect(invoices.getByRole("row").filter({ hasText: "$20.00" }).filter({ hasText: "Paid" })).toHaveCount(1);

  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(300);
      await page.screenshot({ path: `screenshots/subscription-${width}-${scheme}.png`, fullPage: true });
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.emulateMedia({ colorScheme: "light" });

  // The invoice's receipt: printable, the plan and the amount.
  const receiptLink = invoices.getByRole("link", { name: /^Receipt for invoice / });
  const receiptPath = await receiptLink.getAttribute("href");
  const receipt = await page.context().newPage();
  await receipt.goto(receiptPath!);
  await expect(receipt.getByRole("heading", { name: "Receipt", level: 1 })).toBeVisible();
  await expect(receipt.getByText(/^Standard plan, /)).toBeVisible();
  await expect(receipt.getByRole("row").filter({ hasText: "Total" })).toContainText("$20.00");
  await receipt.screenshot({ path: "screenshots/subscription-receipt-1280.png", fullPage: true });
  await receipt.setViewportSize({ width: 390, height: 844 });
  await receipt.screenshot({ path: "screenshots/subscription-receipt-390.png", fullPage: true });
  await receipt.close();

  // The plan's 2,000 included credits are in the wallet, with when they expire.
  await page.getByRole("link", { name: "Wallet", exact: true }).click();
  await expect(page.getByText(/^2,000 included \(expire /)).toBeVisible();
  // The Lab follows the plan: Standard's 400 compute hours a month.
  await page.getByRole("link", { name: "Lab", exact: true }).click();
  await expect(page.getByText(/ of 400 compute hours · Standard plan · /)).toBeVisible();
  await openSubscription(page);

  // A new card for renewals; nothing is charged for it.
  await plan.getByRole("button", { name: "Update card" }).click();
  const cardForm = page.getByRole("form", { name: "Update card" });
  await expect(cardForm.getByRole("button", { name: "Save card" })).toBeEnabled();
  await enterCard(page, "5555555555554444");
  await cardForm.getByRole("button", { name: "Save card" }).click();
  await expect(plan.getByText(/Card on file: .* ending in 4444, expires 12\/2030/)).toBeVisible();
  await expect(invoices.getByRole("row").filter({ hasText: "$20.00" })).toHaveCount(1);

  // Cancel at the end of the period, with a reason; then resume.
  await page.getByLabel("Why are you cancelling? (optional)").selectOption("not_using");
  await page.getByRole("button", { name: "Cancel at period end" }).click();
  await expect(plan.getByText("Cancels at period end")).toBeVisible();
  await expect(plan.getByText(/^Your plan ends on .*; after that you are on the Free plan\.$/)).toBeVisible();
  await page.getByRole("button", { name: "Resume subscription" }).click();
  await expect(plan.getByText("Active", { exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "Cancel at period end" })).toBeVisible();

  // An operator sees the subscription and what it brings in each month.
  keywardCli("admin", "grant", email);
  await page.goto("/account/admin/subscriptions");
  await hydrated(page);
  const row = page.getByRole("table", { name: "Subscriptions, newest first" }).getByRole("row").filter({ hasText: email });
  await expect(row.getByRole("cell", { name: "Standard" })).toBeVisible();
  await expect(row.getByRole("cell", { name: "$20.00" })).toBeVisible();
  await expect(page.getByText("Monthly recurring revenue")).toBeVisible();
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(300);
      await page.screenshot({ path: `screenshots/admin-subscriptions-${width}-${scheme}.png`, fullPage: true });
    }
  }
});

test("upgrade to Pro seeing the prorated amount first, then a downgrade that waits for the period end", async ({ page }) => {
  await signUp(page);
  await openSubscription(page);
  await page.getByRole("article", { name: "Standard plan" }).getByRole("button", { name: "Choose Standard" }).click();
  const form = page.getByRole("form", { name: "Subscribe to Standard" });
  await expect(form.getByRole("button", { name: "Subscribe for $20.00" })).toBeEnabled();
  await enterCard(page, "4242424242424242");
  await form.getByRole("button", { name: "Subscribe for $20.00" }).click();
  await expect(page.getByRole("region", { name: "Standard plan" }).getByText("Active", { exact: true })).toBeVisible();

  // The upgrade's charge is shown before anything happens; Back leaves everything as it was.
  const pro = page.getByRole("article", { name: "Pro plan" });
  await pro.getByRole("button", { name: "Change to Pro" }).click();
  const change = page.getByRole("region", { name: "Change plan" });
  await expect(change.getByRole("heading", { name: "Pro (monthly)" })).toBeVisible();
  await expect(change.getByText(/\$60\.00 is charged now to the card on file/)).toBeVisible();
  await expect(change.getByText(/8,000 more included credits arrive at once/)).toBeVisible();
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await change.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `screenshots/subscription-upgrade-${width}-light.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await change.getByRole("button", { name: "Back" }).click();
  await expect(change.getByRole("heading")).toHaveCount(0);
  await pro.getByRole("button", { name: "Change to Pro" }).click();
  await change.getByRole("button", { name: "Pay $60.00 and upgrade" }).click();
  const current = page.getByRole("region", { name: "Pro plan" });
  await expect(current.getByText("$80.00 per month")).toBeVisible();
  const invoices = page.getByRole("table", { name: "Invoices, newest first" });
  await expect(invoices.getByRole("row").filter({ hasText: "$60.00" }).filter({ hasText: "Paid" })).toHaveCount(1);

  // A cheaper plan waits for the end of the period paid for; keeping Pro calls it off.
  await page.getByRole("article", { name: "Standard plan" }).getByRole("button", { name: "Change to Standard" }).click();
  await expect(change.getByText(/^Your plan changes to Standard on .*You keep Pro until then, and nothing is charged now/)).toBeVisible();
  await change.getByRole("button", { name: /^Change to Standard on / }).click();
  await expect(current.getByText(/^On .* your plan changes to Standard, at \$20\.00 per month\.$/)).toBeVisible();
  await expect(invoices.getByRole("row").filter({ hasText: "Paid" })).toHaveCount(2);
  await pro.getByRole("button", { name: "Keep Pro" }).click();
  await change.getByRole("button", { name: "Keep Pro" }).click();
  await expect(current.getByText(/^Renews on /)).toBeVisible();
  await expect(current.getByText("$80.00 per month")).toBeVisible();
});

test("a 3-month 50% promotion code halves the first invoice and the next", async ({ page }) => {
  const code = `HALF3-${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
  keywardCli("promo", "create", code, "--percent", "50", "--applies-to", "subscriptions",
    "--duration", "repeating", "--months", "3", "--plans", "standard");
  await signUp(page);
  await openSubscription(page);
  await page.getByRole("article", { name: "Pro plan" }).getByRole("button", { name: "Choose Pro" }).click();
  let form = page.getByRole("form", { name: "Subscribe to Pro" });
  await form.getByRole("button", { name: "Add promotion code" }).click();
  await form.getByLabel("Promotion code").fill(code.toLowerCase());
  await form.getByRole("button", { name: "Apply" }).click();
  await expect(form.getByText("This promotion code is for the standard plan only.")).toBeVisible();
  await form.getByRole("button", { name: "Cancel" }).click();

  await page.getByRole("article", { name: "Standard plan" }).getByRole("button", { name: "Choose Standard" }).click();
  form = page.getByRole("form", { name: "Subscribe to Standard" });
  await form.getByRole("button", { name: "Add promotion code" }).click();
  await form.getByLabel("Promotion code").fill(code.toLowerCase());
  await form.getByLabel("Promotion code").press("Enter");
  await expect(form.getByText(`Promotion code ${code} (50% off for 3 months): $10.00 off the first invoice, which is $10.00.`)).toBeVisible();
  await expect(form.getByRole("button", { name: "Subscribe for $10.00" })).toBeEnabled();
  await page.screenshot({ path: "screenshots/subscription-promo-1280-light.png", fullPage: true });
  await enterCard(page, "4242424242424242");
  await form.getByRole("button", { name: "Subscribe for $10.00" }).click();
  const plan = page.getByRole("region", { name: "Standard plan" });
  await expect(plan.getByText("Active", { exact: true })).toBeVisible();
  await expect(plan.getByText(/^Next invoice: \$10\.00 on /)).toBeVisible();
  const invoices = page.getByRole("table", { name: "Invoices, newest first" });
  await expect(invoices.getByRole("row").filter({ hasText: "$10.00" }).filter({ hasText: "Paid" })).toHaveCount(1);
});

/** Posts a signed Stripe event to Keyward's webhook, exactly as Stripe signs one. */
async function deliver(type: string, object: Record<string, unknown>) {
  const { createHmac, randomBytes } = await import("node:crypto");
  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    id: `evt_e2e_${randomBytes(8).toString("hex")}`, object: "event", type, created: now, data: { object },
  });
  const signature = createHmac("sha256", stripeWebhookSecret).update(`${now}.${body}`).digest("hex");
  const answer = await fetch(`${keywardURL}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": `t=${now},v1=${signature}` },
    body,
  });
  expect(answer.status).toBe(200);
}

test("a failed renewal shows a past-due banner on the dashboard and the subscription page", async ({ page }) => {
  await signUp(page);
  await openSubscription(page);
  const pro = page.getByRole("article", { name: "Pro plan" });
  await pro.getByRole("button", { name: "Choose Pro" }).click();
  const form = page.getByRole("form", { name: "Subscribe to Pro" });
  await expect(form.getByRole("button", { name: "Subscribe for $80.00" })).toBeEnabled();
  await enterCard(page, "4242424242424242");
  await form.getByRole("button", { name: "Subscribe for $80.00" }).click();
  await expect(page.getByRole("region", { name: "Pro plan" }).getByText("Active", { exact: true })).toBeVisible();

  // localstripe sends its own webhooks for the new subscription a second later; each makes
  // Keyward ask localstripe, which knows nothing of the failure below and would answer
  // "active". They are let in first.
  await page.waitForTimeout(2_500);
  // The renewal's payment fails at Stripe, which tells Keyward.
  const firstInvoice = (await page.getByRole("table", { name: "Invoices, newest first" })
    .getByRole("row").nth(1).getByRole("cell").first().innerText()).trim();
  const paid = await (await fetch(`${localstripeURL}/v1/invoices/${firstInvoice}`, {
    headers: { authorization: "Bearer sk_test_e2e" },
  })).json();
  const periodEnd = paid.lines.data[0].period.end;
  await deliver("invoice.payment_failed", {
    id: `in_e2e_${Date.now()}`, object: "invoice", customer: paid.customer, subscription: paid.subscription,
    status: "open", total: 8000, currency: "usd", created: periodEnd,
    lines: { data: [{ description: "Pro", amount: 8000, period: { start: periodEnd, end: periodEnd + 30 * 86400 } }] },
  });

  await page.getByRole("link", { name: "Dashboard", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Your Pro payment failed." })).toBeVisible();
  await page.getByRole("alert").getByRole("link", { name: "Update your card" }).click();
  await expect(page.getByRole("heading", { name: "Subscription", level: 1 })).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: "Your last payment failed." })).toBeVisible();
  await expect(page.getByRole("region", { name: "Pro plan" }).getByText("Past due", { exact: true })).toBeVisible();
  await expect(page.getByRole("table", { name: "Invoices, newest first" }).getByRole("row").filter({ hasText: "Payment failed" })).toHaveCount(1);
});
