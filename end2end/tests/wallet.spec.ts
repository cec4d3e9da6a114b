import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { serviceToken } from "../playwright.config";
import { createKey, hydrated, keywardCli, operatorGrant, signUp } from "./helpers";

test("granted credits, a service's charge and the CSV export show in the Wallet", async ({ page, request }) => {
  const email = await signUp(page);
  operatorGrant(email, 1000, "Welcome credits");

  // A key for the operator's job service to charge.
  const secret = await createKey(page, "render-farm");

  const charge = await request.post("/api/v1/verify", {
    headers: { Authorization: `Bearer ${serviceToken}` },
    data: { key: secret, cost: 250, description: "Render job 7", idempotency_key: `job-7-${email}` },
  });
  expect(charge.status()).toBe(200);
  expect(await charge.json()).toMatchObject({ valid: true, balance: 750 });

  await page.getByRole("link", { name: "Wallet", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Wallet", level: 1 })).toBeVisible();
  const credits = page.getByRole("region", { name: "Credits", exact: true });
  await expect(credits.getByText("750 credits")).toBeVisible();
  await expect(credits.getByText("Worth $7.50")).toBeVisible();
  await expect(credits.getByText("8.3 / day")).toBeVisible();
  await expect(credits.getByText("About 90 days left")).toBeVisible();
  await expect(page.getByRole("img", { name: /Credits spent per day over the last 30 days: 250 in total/ })).toBeVisible();

  const table = page.getByRole("region", { name: "Transactions" }).getByRole("table");
  const chargeRow = table.getByRole("row").filter({ hasText: "Render job 7" });
  await expect(chargeRow.getByRole("cell", { name: "-250" })).toBeVisible();
  await expect(chargeRow.getByRole("cell", { name: "Charge", exact: true })).toBeVisible();
  const grantRow = table.getByRole("row").filter({ hasText: "Welcome credits" });
  await expect(grantRow.getByRole("cell", { name: "+1,000" })).toBeVisible();

  // Only charges.
  await page.getByRole("combobox", { name: "Show transactions of kind" }).selectOption({ label: "Charge" });
  await expect(table.getByRole("row").filter({ hasText: "Welcome credits" })).toHaveCount(0);
  await expect(chargeRow).toBeVisible();

  // The export is what the table shows, as a file.
  await page.getByRole("combobox", { name: "Show transactions of kind" }).selectOption({ label: "All kinds" });
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Export CSV" }).click();
  const file = await (await download).path();
  const csv = readFileSync(file, "utf8");
  expect(csv.split("\r\n")[0]).toBe("date,id,kind,description,credits,reference,key_id,actor");
  expect(csv).toContain(",charge,Render job 7,-250,");
  expect(csv).toContain(",operator_grant,Welcome credits,1000,");
  expect(csv).not.toContain(secret);
});

test("included credits show apart from bought ones, with when they expire, and are spent first", async ({ page, request }) => {
  const email = await signUp(page);
  operatorGrant(email, 5000, "Bought earlier");
  keywardCli("credits", "grant", email, "1240", "--reason", "Standard plan: included credits", "--expires", "2099-01-06");
  await page.goto("/account/wallet");
  await hydrated(page);
  const credits = page.getByRole("region", { name: "Credits", exact: true });
  await expect(credits.getByText("6,240 credits")).toBeVisible();
  await expect(credits.getByText("1,240 included (expire Jan 7, 2099) · 5,000 bought")).toBeVisible();
  const table = page.getByRole("region", { name: "Transactions" }).getByRole("table");
  const grantRow = table.getByRole("row").filter({ hasText: "Standard plan: included credits" });
  await expect(grantRow.getByRole("cell", { name: "Included", exact: true })).toBeVisible();
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(300); // let colour transitions finish
      await page.screenshot({ path: `screenshots/wallet-included-${width}-${scheme}.png` });
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  // A script reads the same split; a charge takes included credits first.
  const secret = await createKey(page, "split-reader", ["credits:read"]);
  const charge = await request.post("/api/v1/verify", {
    headers: { Authorization: `Bearer ${serviceToken}` },
    data: { key: secret, cost: 240 },
  });
  expect(charge.status()).toBe(200);
  const read = await request.get("/api/v1/credits", { headers: { Authorization: `Bearer ${secret}` } });
  expect(read.status()).toBe(200);
  expect(await read.json()).toMatchObject({ balance: 6000, included: 1000, bought: 5000 });
  await page.getByRole("link", { name: "Wallet", exact: true }).click();
  await expect(credits.getByText("1,000 included (expire Jan 7, 2099) · 5,000 bought")).toBeVisible();
});

test("a new wallet explains itself", async ({ page }) => {
  await signUp(page);
  await page.goto("/account/wallet");
  await hydrated(page);
  await expect(page.getByRole("region", { name: "Credits", exact: true }).getByText("0 credits", { exact: true })).toBeVisible();
  await expect(page.getByText("No credits left")).toBeVisible();
  await expect(page.getByText("No transactions yet")).toBeVisible();
});
