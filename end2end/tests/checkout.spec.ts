import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { hydrated, keywardCli, randomCode, signUp } from "./helpers";

async function startOrder(page: Page, pack: string) {
  await page.getByRole("link", { name: "Wallet", exact: true }).click();
  const buy = page.getByRole("region", { name: "Buy credits" });
  await buy.getByRole("radio", { name: new RegExp(`^${pack} credits`) }).check();
  await buy.getByRole("button", { name: "Purchase" }).click();
  await expect(page.getByRole("heading", { name: "Checkout", level: 1 })).toBeVisible();
  await hydrated(page);
}

async function applyCode(page: Page, code: string) {
  await page.getByRole("button", { name: "Add promotion code" }).click();
  await page.getByLabel("Promotion code").fill(code);
  await page.getByRole("button", { name: "Apply" }).click();
}

test("a code that pays everything adds the credits at once", async ({ page }) => {
  const code = randomCode("FREE");
  keywardCli("promo", "create", code, "--percent", "100");
  await signUp(page);
  await startOrder(page, "1,000");
  const summary = page.getByRole("region", { name: "Order summary" });
  await expect(summary.getByText("$10.00").first()).toBeVisible();
  // A total to pay asks for a card (the Rust tests cover a server without card payments).
  await expect(page.frameLocator('iframe[title="Card details"]').getByPlaceholder("number")).toBeVisible();

  await applyCode(page, code.toLowerCase());
  await expect(summary.getByText(`Promotion code ${code} (100% off)`)).toBeVisible();
  await expect(summary.getByRole("definition").filter({ hasText: "$0.00" }).last()).toBeVisible();
  await page.getByRole("button", { name: "Complete Order" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Order complete." })).toContainText("1,000 credits were added to your wallet.");

  await page.getByRole("link", { name: "Back to Wallet" }).click();
  await expect(page.getByRole("region", { name: "Credits", exact: true }).getByText("1,000 credits")).toBeVisible();
  const row = page.getByRole("row").filter({ hasText: `1,000 credits with code ${code}` });
  await expect(row.getByRole("cell", { name: "+1,000" })).toBeVisible();
  await expect(row.getByRole("cell", { name: "Promo code", exact: true })).toBeVisible();
});

test("codes that do not apply say exactly why, beside the field", async ({ page }) => {
  const expired = randomCode("OLD");
  const today = new Date().toISOString().slice(0, 10);
  keywardCli("promo", "create", expired, "--amount", "5.00", "--expires", today);
  // Time passes: the code's last day is now behind it.
  execFileSync("python3", ["-c",
    "import sqlite3,sys; c=sqlite3.connect('target/e2e.db'); c.execute('UPDATE promo_codes SET expires_at = 1 WHERE code = ?', (sys.argv[1],)); c.commit()",
    expired], { cwd: path.resolve(__dirname, "..", "..") });
  const minimum = randomCode("BIG");
  keywardCli("promo", "create", minimum, "--percent", "10", "--min", "100.00");

  await signUp(page);
  await startOrder(page, "5,000");
  const field = page.getByLabel("Promotion code");
  for (const [code, message] of [
    [expired, "This promotion code has expired."],
    [minimum, "This promotion code needs a purchase of at least $100.00."],
    ["NO-SUCH-CODE", "There is no promotion code with that name."],
  ]) {
    if (!(await field.isVisible())) await page.getByRole("button", { name: "Add promotion code" }).click();
    await field.fill(code);
    await page.getByRole("button", { name: "Apply" }).click();
    await expect(field).toHaveAccessibleDescription(new RegExp(message.replace(/[.$]/g, "\\$&")));
    await expect(field).toHaveAttribute("aria-invalid", "true");
  }
  await expect(page.getByRole("region", { name: "Order summary" }).getByText("$50.00").last()).toBeVisible();
});

test("an admin creates a code in the Admin section and another person redeems it", async ({ page, browser }) => {
  const adminEmail = await signUp(page);
  await expect(page.getByRole("navigation", { name: "Admin" })).toHaveCount(0);
  keywardCli("admin", "grant", adminEmail);
  await page.reload();
  await hydrated(page);
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Promo codes" }).click();
  await expect(page.getByRole("heading", { name: "Promo codes", level: 1 })).toBeVisible();

  const code = randomCode("TEAM");
  const form = page.getByRole("region", { name: "New promo code" });
  await form.getByLabel("Code").fill(code);
  await form.getByLabel("Amount off").fill("0");
  await form.getByRole("button", { name: "Create code" }).click();
  await expect(form.getByLabel("Amount off")).toHaveAccessibleDescription(/1 to 100/);
  await form.getByLabel("Amount off").fill("100");
  await form.getByLabel("Redemption limit").fill("5");
  await form.getByRole("button", { name: "Create code" }).click();
  const row = page.getByRole("row").filter({ hasText: code });
  await expect(row.getByRole("cell", { name: "0 of 5" })).toBeVisible();

  const other = await browser.newContext();
  const person = await other.newPage();
  await signUp(person);
  await expect(person.getByRole("navigation", { name: "Admin" })).toHaveCount(0);
  const denied = await person.goto("/account/admin/promo-codes");
  expect(denied?.status()).toBe(404);
  await expect(person.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await person.goto("/account");
  await hydrated(person);
  await startOrder(person, "5,000");
  await applyCode(person, code);
  await person.getByRole("button", { name: "Complete Order" }).click();
  await expect(person.getByText("5,000 credits were added to your wallet.")).toBeVisible();
  await other.close();

  await page.reload();
  await hydrated(page);
  await expect(row.getByRole("cell", { name: "1 of 5" })).toBeVisible();
  await row.getByRole("button", { name: `Deactivate ${code}` }).click();
  await expect(row.getByText("Inactive")).toBeVisible();
});
