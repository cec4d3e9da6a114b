import { expect, test, type Page } from "@playwright/test";
import { hydrated, signUp } from "./helpers";

const KEY_FORMAT = /^kw_[0-9A-Za-z]{36}$/;

async function openApiKeys(page: Page) {
  await page.getByRole("link", { name: "API Keys", exact: true }).click();
  await expect(page.getByRole("heading", { name: "API Keys", level: 1 })).toBeVisible();
}

/** Creates a key through the dialog and answers the value the reveal dialog showed. */
async function createKey(page: Page, name: string): Promise<string> {
  await page.getByRole("button", { name: "Create API Key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("button", { name: "Create key" }).click();
  const reveal = page.getByRole("dialog", { name: "Your new API key" });
  await expect(reveal).toBeVisible();
  const secret = await reveal.getByRole("textbox", { name: "API key value" }).inputValue();
  expect(secret).toMatch(KEY_FORMAT);
  await reveal.getByRole("button", { name: "Done" }).click();
  await expect(reveal).toBeHidden();
  await expect(page.getByRole("button", { name, exact: true })).toBeVisible();
  return secret;
}

function row(page: Page, name: string) {
  return page.getByRole("row").filter({ has: page.getByRole("button", { name, exact: true }) });
}

test("create a key, copy it once, and see only its preview after a reload", async ({ page }) => {
  await signUp(page);
  await openApiKeys(page);
  await expect(page.getByText("No API keys yet")).toBeVisible();

  await page.getByRole("button", { name: "Create API Key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await dialog.getByLabel("Name").fill("ci-runner");
  await dialog.getByRole("checkbox", { name: /keys:read/ }).check();
  await dialog.getByLabel("Expiration").selectOption({ label: "30 days" });
  await dialog.getByRole("button", { name: "Create key" }).click();

  const reveal = page.getByRole("dialog", { name: "Your new API key" });
  await expect(reveal.getByText("This is the only time this key is shown", { exact: false })).toBeVisible();
  const secret = await reveal.getByRole("textbox", { name: "API key value" }).inputValue();
  expect(secret).toMatch(KEY_FORMAT);
  await reveal.getByRole("button", { name: "Copy key value" }).click();
  await expect(reveal.getByRole("button", { name: "Copy key value" })).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await reveal.getByRole("button", { name: "Done" }).click();
  await expect(reveal).toBeHidden();
  // Closing drops the value from the page.
  expect(await page.content()).not.toContain(secret);

  const keyRow = row(page, "ci-runner");
  await expect(keyRow.getByText(`kw_${secret.slice(3, 7)}…${secret.slice(-4)}`)).toBeVisible();
  await expect(keyRow.getByText("Active")).toBeVisible();
  await expect(keyRow.getByText("Never")).toBeVisible();

  await page.reload();
  await hydrated(page);
  await expect(row(page, "ci-runner")).toBeVisible();
  expect(await page.content()).not.toContain(secret);

  // The row's Copy copies the key's public ID, with feedback that fades.
  await row(page, "ci-runner").getByRole("button", { name: 'Copy ID of key "ci-runner"' }).click();
  await expect(row(page, "ci-runner").getByText("Copied")).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toMatch(/^kid_/);
  await expect(row(page, "ci-runner").getByText("Copied")).toBeHidden({ timeout: 5_000 });
});

test("expand a row to read its details, then deactivate and activate it", async ({ page }) => {
  const email = await signUp(page);
  await openApiKeys(page);
  await createKey(page, "analytics");
  const toggle = page.getByRole("button", { name: "analytics", exact: true });
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-expanded", "true");

  const details = page.getByRole("region", { name: 'Details of "analytics"' });
  await expect(details.getByText("account:read")).toBeVisible();
  await expect(details.getByText("Read your account's ID, email and sign-up date.")).toBeVisible();
  await expect(details.getByText(/\(in (2|3) months\)|\(in 89 days\)/)).toBeVisible();
  const usage = page.getByRole("region", { name: 'Usage of "analytics"' });
  await expect(usage.getByText("Last 24 hours")).toBeVisible();
  await expect(usage.getByText("No requests yet", { exact: false })).toBeVisible();
  await expect(usage.getByText(`Created by ${email}`, { exact: false })).toBeVisible();

  await details.getByRole("button", { name: "Deactivate" }).click();
  await expect(page.getByRole("status").getByText('"analytics" deactivated')).toBeVisible();
  await expect(row(page, "analytics").getByText("Inactive")).toBeVisible();
  await expect(usage.getByText(`Deactivated by ${email}`, { exact: false })).toBeVisible();

  await details.getByRole("button", { name: "Activate" }).click();
  await expect(row(page, "analytics").getByText("Active", { exact: true })).toBeVisible();
  await expect(usage.getByText(new RegExp(`^Activated by ${email.replace(/\./g, "\\.")}`))).toBeVisible();
});

test("regenerate immediately shows a different key once", async ({ page }) => {
  await signUp(page);
  await openApiKeys(page);
  const first = await createKey(page, "deploy-bot");
  await page.getByRole("button", { name: 'Regenerate key "deploy-bot"' }).click();
  const dialog = page.getByRole("dialog", { name: 'Regenerate "deploy-bot"?' });
  await expect(dialog.getByText("The current value stops working", { exact: false })).toBeVisible();
  await expect(dialog.getByRole("radio", { name: "Immediately" })).toBeChecked();
  await dialog.getByRole("button", { name: "Regenerate Key" }).click();

  const reveal = page.getByRole("dialog", { name: "Your regenerated key" });
  await expect(reveal).toBeVisible();
  const second = await reveal.getByRole("textbox", { name: "API key value" }).inputValue();
  expect(second).toMatch(KEY_FORMAT);
  expect(second).not.toBe(first);
  await expect(reveal.getByText("The previous value has stopped working.")).toBeVisible();
  // Once copied, Escape closes at once.
  await reveal.getByRole("button", { name: "Copy key value" }).click();
  await expect(reveal.getByRole("button", { name: "Copy key value" })).toHaveText("Copied");
  await page.keyboard.press("Escape");
  await expect(reveal).toBeHidden();
  await expect(row(page, "deploy-bot").getByText(`kw_${second.slice(3, 7)}…${second.slice(-4)}`)).toBeVisible();
});

test("delete a key after confirming", async ({ page }) => {
  await signUp(page);
  await openApiKeys(page);
  await createKey(page, "old-laptop");
  await createKey(page, "keeper");
  await page.getByRole("button", { name: 'Delete key "old-laptop"' }).click();
  const dialog = page.getByRole("dialog", { name: 'Delete "old-laptop"?' });
  await expect(dialog.getByText("Revoked keys cannot be recovered", { exact: false })).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(row(page, "old-laptop")).toBeVisible();

  await page.getByRole("button", { name: 'Delete key "old-laptop"' }).click();
  await page.getByRole("dialog", { name: 'Delete "old-laptop"?' }).getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByRole("status").getByText('"old-laptop" deleted')).toBeVisible();
  await expect(row(page, "old-laptop")).toHaveCount(0);
  await expect(row(page, "keeper")).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(row(page, "keeper")).toBeVisible();
  await expect(row(page, "old-laptop")).toHaveCount(0);
});

test("a name with markup renders as text", async ({ page }) => {
  await signUp(page);
  await openApiKeys(page);
  let alerted = false;
  page.on("dialog", (d) => {
    alerted = true;
    void d.dismiss();
  });
  const name = '<script>alert("x")</script><b>bold</b>';
  await createKey(page, name);
  await expect(page.getByRole("button", { name, exact: true })).toHaveText(name);
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole("button", { name, exact: true })).toHaveText(name);
  expect(alerted).toBe(false);
});

test("bad input in the create dialog is explained and nothing is created", async ({ page }) => {
  await signUp(page);
  await openApiKeys(page);
  await page.getByRole("button", { name: "Create API Key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await dialog.getByRole("checkbox", { name: /account:read/ }).uncheck();
  await dialog.getByRole("button", { name: "Create key" }).click();
  await expect(dialog.getByText('Give the key a name, such as "ci-runner".')).toBeVisible();
  await expect(dialog.getByText("Choose at least one scope.")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(page.getByText("No API keys yet")).toBeVisible();
});

test("keyboard only: Tab, Enter and Escape complete a create", async ({ page }) => {
  await signUp(page);
  await openApiKeys(page);
  const open = page.getByRole("button", { name: "Create API Key" });
  await open.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Name")).toBeFocused();
  await page.keyboard.type("typed-by-keyboard");
  await page.keyboard.press("Enter");
  const reveal = page.getByRole("dialog", { name: "Your new API key" });
  await expect(reveal).toBeVisible();
  // Focus stays inside the modal.
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press("Tab");
    expect(await reveal.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  }
  // Escape before copying warns instead of losing the only copy; a second Escape closes.
  await page.keyboard.press("Escape");
  await expect(reveal.getByRole("alert")).toHaveText(/not copied this key/);
  await expect(reveal).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(reveal).toBeHidden();
  await expect(page.getByRole("button", { name: "typed-by-keyboard", exact: true })).toBeVisible();
});

test("more than 50 keys paginate, sort by name, and filter by search", async ({ page, request }) => {
  await signUp(page);
  await openApiKeys(page);
  // A key that may create keys, then 55 more made with it from a script.
  await page.getByRole("button", { name: "Create API Key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await dialog.getByLabel("Name").fill("admin");
  await dialog.getByRole("checkbox", { name: /keys:write/ }).check();
  await dialog.getByRole("button", { name: "Create key" }).click();
  const reveal = page.getByRole("dialog", { name: "Your new API key" });
  const secret = await reveal.getByRole("textbox", { name: "API key value" }).inputValue();
  await reveal.getByRole("button", { name: "Done" }).click();
  for (let i = 0; i < 55; i++) {
    const created = await request.post("/api/v1/keys", {
      headers: { Authorization: `Bearer ${secret}` },
      data: { name: `svc-${String(i).padStart(2, "0")}`, scopes: ["account:read"] },
    });
    expect(created.status()).toBe(201);
  }
  await page.reload();
  await hydrated(page);

  const keyNames = page.getByRole("button", { name: /^(svc-\d\d|admin)$/ });
  const pages = page.getByRole("navigation", { name: "Pages of keys" });
  await expect(pages).toContainText("Showing 1–50 of 56");
  await expect(keyNames).toHaveCount(50);
  // Newest first (two keys made in one millisecond may come in either order).
  await expect(keyNames.first()).toHaveText(/^svc-5[34]$/);
  await expect(pages.getByRole("button", { name: "Previous" })).toBeDisabled();

  await pages.getByRole("button", { name: "Next" }).click();
  await expect(pages).toContainText("Showing 51–56 of 56");
  await expect(keyNames).toHaveCount(6);
  await expect(keyNames.last()).toHaveText("admin"); // the oldest
  await expect(pages.getByRole("button", { name: "Next" })).toBeDisabled();
  await page.screenshot({ path: "screenshots/api-keys-page-2.png", fullPage: true });

  // Sorting starts again at the first page.
  await page.getByLabel("Sort by").selectOption("name");
  await expect(pages).toContainText("Showing 1–50 of 56");
  await expect(keyNames.first()).toHaveText("admin");
  await expect(keyNames.nth(1)).toHaveText("svc-00");

  await page.getByRole("searchbox", { name: "Search keys by name" }).fill("svc-1");
  await expect(keyNames).toHaveCount(10);
  await expect(keyNames.first()).toHaveText("svc-10");
  await expect(pages).toBeHidden();

  await page.getByRole("searchbox", { name: "Search keys by name" }).fill("nothing-like-this");
  await expect(page.getByText("No keys match your search.")).toBeVisible();
});

test("screenshots of the keys page, light and dark", async ({ page }) => {
  await signUp(page);
  await openApiKeys(page);
  for (const name of ["ci-runner", "analytics-export", "staging-deploy", "local-dev"]) {
    await createKey(page, name);
  }
  await page.getByRole("button", { name: "analytics-export", exact: true }).click();
  await expect(page.getByRole("region", { name: 'Usage of "analytics-export"' })).toBeVisible();
  // What the page must show: four rows, newest first, each active, never used, no value.
  const names = page.locator("tbody .key-name button");
  await expect(names).toHaveText(["local-dev", "staging-deploy", "analytics-export", "ci-runner"]);
  for (const name of ["local-dev", "staging-deploy", "analytics-export", "ci-runner"]) {
    const row = page.getByRole("row").filter({ has: page.getByRole("button", { name, exact: true }) });
    await expect(row.getByText("Active", { exact: true })).toBeVisible();
    await expect(row.getByText("Never")).toBeVisible();
    await expect(row.getByRole("button", { name: `Delete key "${name}"` })).toBeVisible();
  }
  await expect(page.getByRole("region", { name: 'Details of "analytics-export"' }).getByRole("button", { name: "Deactivate" })).toBeVisible();
  await expect(page.getByRole("textbox", { name: "API key value" })).toHaveCount(0);
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(300); // let colour transitions finish
    await page.screenshot({ path: `screenshots/api-keys-${scheme}.png`, fullPage: true });
  }
  await page.getByRole("button", { name: "Create API Key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Name")).toBeFocused();
  await expect(dialog.getByRole("checkbox", { name: /account:read/ })).toBeChecked();
  await expect(dialog.getByLabel("Expiration")).toHaveValue("90");
  await page.emulateMedia({ colorScheme: "light" });
  await page.waitForTimeout(300);
  await page.screenshot({ path: "screenshots/create-dialog.png" });
});
