import { expect, test } from "@playwright/test";
import { hydrated, signUp } from "./helpers";

test("a key used from a script shows its use on the page within seconds", async ({ page, request }) => {
  const email = await signUp(page);
  await page.getByRole("link", { name: "API Keys", exact: true }).click();
  await page.getByRole("button", { name: "Create API Key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await dialog.getByLabel("Name").fill("script");
  await dialog.getByRole("button", { name: "Create key" }).click();
  const reveal = page.getByRole("dialog", { name: "Your new API key" });
  const secret = await reveal.getByRole("textbox", { name: "API key value" }).inputValue();
  await reveal.getByRole("button", { name: "Done" }).click();

  const keyRow = page.getByRole("row").filter({ has: page.getByRole("button", { name: "script", exact: true }) });
  await expect(keyRow.getByText("Never")).toBeVisible();

  for (let i = 0; i < 3; i++) {
    const response = await request.get("/api/v1/me", {
      headers: { Authorization: `Bearer ${secret}`, "User-Agent": "e2e-script/1.0" },
    });
    expect(response.status()).toBe(200);
    expect((await response.json()).email).toBe(email);
  }
  const refused = await request.get("/api/v1/me", { headers: { Authorization: "Bearer kw_not-a-real-key" } });
  expect(refused.status()).toBe(401);

  // Usage is flushed every second, so the three requests may land in one flush or two:
  // reload (and open the key's details) until all three show.
  const usage = page.getByRole("region", { name: 'Usage of "script"' });
  const stat = (term: string) => usage.locator("dl.usage-stats div").filter({ has: page.getByRole("term").filter({ hasText: term }) }).getByRole("definition");
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await expect(keyRow.getByText("just now")).toBeVisible({ timeout: 1_000 });
    await page.getByRole("button", { name: "script", exact: true }).click();
    await expect(stat("Total")).toHaveText("3", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(stat("Last 24 hours")).toHaveText("3");
  await expect(stat("Last 30 days")).toHaveText("3");
  await expect(usage.getByRole("cell", { name: "GET /api/v1/me" })).toHaveCount(3);
  await expect(usage.getByRole("img", { name: /3 in total/ })).toBeVisible();
  await page.screenshot({ path: "screenshots/usage-expanded.png", fullPage: true });
});
