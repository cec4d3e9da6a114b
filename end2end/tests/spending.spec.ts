import { expect, test } from "@playwright/test";
import { serviceToken } from "../playwright.config";
import { hydrated, operatorGrant, signUp } from "./helpers";

test("a key's monthly limit stops its charges, and the expanded row shows it", async ({ page, request }) => {
  const email = await signUp(page);
  operatorGrant(email, 1000, "Welcome credits");
  await page.getByRole("link", { name: "API Keys", exact: true }).click();
  await page.getByRole("button", { name: "Create API Key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await dialog.getByLabel("Name").fill("batch-jobs");
  // A limit that is not a number says so beside the field and creates nothing.
  await dialog.getByLabel("Monthly spending limit (credits)").fill("lots");
  await dialog.getByRole("button", { name: "Create key" }).click();
  await expect(dialog.getByLabel("Monthly spending limit (credits)")).toHaveAccessibleDescription(/whole number of credits/);
  await dialog.getByLabel("Monthly spending limit (credits)").fill("100");
  await dialog.getByRole("button", { name: "Create key" }).click();
  const reveal = page.getByRole("dialog", { name: "Your new API key" });
  const secret = await reveal.getByRole("textbox", { name: "API key value" }).inputValue();
  await reveal.getByRole("button", { name: "Done" }).click();

  // The limit is set as soon as the key exists.
  await page.getByRole("button", { name: "batch-jobs", exact: true }).click();
  const details = page.getByRole("region", { name: 'Details of "batch-jobs"' });
  await expect(details.getByText("0 of 100 credits charged this month", { exact: true })).toBeVisible();

  const charge = (cost: number, id: string) =>
    request.post("/api/v1/verify", {
      headers: { Authorization: `Bearer ${serviceToken}` },
      data: { key: secret, cost, idempotency_key: `${id}-${email}` },
    });
  expect((await (await charge(80, "first")).json()).valid).toBe(true);
  const refused = await (await charge(30, "second")).json();
  expect(refused).toMatchObject({ valid: false, reason: "key_spending_limit", balance: 920 });

  await page.reload();
  await hydrated(page);
  await page.getByRole("button", { name: "batch-jobs", exact: true }).click();
  await expect(details.getByText("80 of 100 credits charged this month", { exact: true })).toBeVisible();
  await expect(details.getByRole("progressbar", { name: 'Credits charged with "batch-jobs" this month' })).toBeVisible();
  await details.getByLabel("Monthly limit (credits)").fill("200");
  await details.getByRole("button", { name: "Save limit" }).click();
  await expect(page.getByRole("status").getByText('"batch-jobs" may now charge 200 credits a month')).toBeVisible();
  await expect(details.getByText("80 of 200 credits charged this month", { exact: true })).toBeVisible();
  expect((await (await charge(30, "third")).json()).valid).toBe(true);
});

test("a low-balance alert shows on the dashboard while the balance is below it", async ({ page }) => {
  const email = await signUp(page);
  operatorGrant(email, 300, "Starter credits");
  await page.getByRole("link", { name: "Wallet", exact: true }).click();
  await hydrated(page);
  const alert = page.getByRole("region", { name: "Low-balance alert" });
  await alert.getByLabel("Alert me below (credits)").fill("-4");
  await alert.getByRole("button", { name: "Save alert" }).click();
  await expect(alert.getByLabel("Alert me below (credits)")).toHaveAccessibleDescription(/whole number of credits/);
  await alert.getByLabel("Alert me below (credits)").fill("500");
  await alert.getByRole("button", { name: "Save alert" }).click();
  await expect(alert.getByRole("status").filter({ hasText: "Saved." })).toContainText("below 500 credits");
  await expect(alert.getByText("Your balance, 300 credits, is below your alert at 500 credits.")).toBeVisible();

  await page.getByRole("link", { name: "Dashboard", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your balance is low." }))
    .toContainText("300 credits left, below your alert at 500 credits.");
  operatorGrant(email, 1000, "Top-up");
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Dashboard", level: 1 })).toBeVisible();
  await expect(page.getByText("Your balance is low.")).toHaveCount(0);
});
