import { expect, test, type Page } from "@playwright/test";
import { enterCard, hydrated, keywardCli, randomCode, signUp } from "./helpers";
import { keywardURL, localstripeURL, stripeWebhookSecret } from "../playwright.config";

// Card payments against localstripe: its stand-in for Stripe.js draws the card form,
// its API takes the PaymentIntent, and it sends signed webhooks to Keyward.
test.beforeAll(async () => {
  const registered = await fetch(`${localstripeURL}/_config/webhooks/keyward-e2e`, {
    method: "POST",
    body: new URLSearchParams({ url: `${keywardURL}/webhooks/stripe`, secret: stripeWebhookSecret }),
  });
  expect(registered.ok).toBe(true);
});

async function startOrder(page: Page, pack: string) {
  await page.getByRole("link", { name: "Wallet", exact: true }).click();
  const buy = page.getByRole("region", { name: "Buy credits" });
  await buy.getByRole("radio", { name: new RegExp(`^${pack} credits`) }).check();
  await buy.getByRole("button", { name: "Purchase" }).click();
  await expect(page.getByRole("heading", { name: "Checkout", level: 1 })).toBeVisible();
  await hydrated(page);
}

test("a 20% code, then the rest paid by card, adds the credits", async ({ page }) => {
  const code = randomCode("TWENTY");
  keywardCli("promo", "create", code, "--percent", "20");
  await signUp(page);
  await startOrder(page, "1,000");
  await page.getByRole("button", { name: "Add promotion code" }).click();
  await page.getByLabel("Promotion code").fill(code);
  await page.getByRole("button", { name: "Apply" }).click();
  const summary = page.getByRole("region", { name: "Order summary" });
  await expect(summary.getByText(`Promotion code ${code} (20% off)`)).toBeVisible();
  await expect(summary.getByRole("definition").filter({ hasText: "$8.00" }).last()).toBeVisible();

  await expect(page.getByRole("button", { name: "Complete Order" })).toBeEnabled();
  await enterCard(page, "4242424242424242");
  await page.getByRole("button", { name: "Complete Order" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Order complete." }))
    .toContainText("1,000 credits were added to your wallet.");

  await page.getByRole("link", { name: "Back to Wallet" }).click();
  await expect(page.getByRole("region", { name: "Credits", exact: true }).getByText("1,000 credits")).toBeVisible();
  const row = page.getByRole("row").filter({ hasText: `1,000 credits (code ${code})` });
  await expect(row.getByRole("cell", { name: "+1,000" })).toBeVisible();
  await expect(row.getByRole("cell", { name: "Purchase", exact: true })).toBeVisible();
  const csv = await page.request.get("/account/wallet/transactions.csv");
  expect(await csv.text()).toContain(`1,000 credits (code ${code})`);
});

test("a declined card says why and adds nothing; another card then pays", async ({ page }) => {
  await signUp(page);
  await startOrder(page, "5,000");
  // localstripe declines this card when it is charged.
  await enterCard(page, "4000000000000341");
  await page.getByRole("button", { name: "Complete Order" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "The payment failed" }))
    .toContainText("Your card was declined.");
  await expect(page.getByRole("status").filter({ hasText: "Order complete." })).toHaveCount(0);
  // localstripe then sends the webhook for the decline: once Keyward has it, the order
  // still says why it failed (the event changed nothing).
  const orderId = new URL(page.url()).pathname.split("/").pop() ?? "";
  expect(orderId).toMatch(/^ord_/);
  await expect
    .poll(() => keywardCli("orders", "show", orderId), { timeout: 15_000 })
    .toContain("payment_intent.payment_failed");
  expect(keywardCli("orders", "show", orderId)).toContain(": failed (5,000 credits");
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole("alert").filter({ hasText: "The payment failed" }))
    .toContainText("Your card was declined.");

  await enterCard(page, "4242424242424242");
  await page.getByRole("button", { name: "Complete Order" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Order complete." }))
    .toContainText("5,000 credits were added to your wallet.");
  await page.getByRole("link", { name: "Back to Wallet" }).click();
  await expect(page.getByRole("region", { name: "Credits", exact: true }).getByText("5,000 credits")).toBeVisible();
});
