import { expect, test, type Page } from "@playwright/test";
import { hydrated, keywardCli, signUp } from "./helpers";
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

async function enterCard(page: Page, number: string) {
  const card = page.frameLocator('iframe[title="Card details"]').locator("body");
  await card.getByPlaceholder("number").fill(number);
  await card.getByPlaceholder("exp_month").fill("12");
  await card.getByPlaceholder("exp_year").fill("30");
  await card.getByPlaceholder("cvc").fill("123");
  await card.getByPlaceholder("postal_code").fill("10001");
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
  await expect(page.getByRole("region", { name: "Free plan" })).toBeVisible();

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

  // The plan's 2,000 included credits are in the wallet, with when they expire.
  await page.getByRole("link", { name: "Wallet", exact: true }).click();
  await expect(page.getByText(/^2,000 included \(expire /)).toBeVisible();
  await openSubscription(page);

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
