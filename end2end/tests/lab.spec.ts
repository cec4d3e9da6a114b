import { expect, test, type Page } from "@playwright/test";
import { hydrated, signUp } from "./helpers";

// Lab against the real JupyterHub `make test` starts (scripts/test-hub.sh), which signs
// people in through this Keyward (OAuth 2.0 with PKCE) and runs a JupyterLab for each.

const hubLab = /\/user\/kw-[0-9a-f]{20}\/lab/;

/** Launch Lab, as the person clicks it: they land in their JupyterLab, signed in. */
async function launchFrom(page: Page, scope: ReturnType<Page["locator"]> | Page) {
  await scope.getByRole("button", { name: "Launch Lab" }).click();
  await page.waitForURL(hubLab, { timeout: 60_000 });
  await expect(page).toHaveTitle(/JupyterLab/, { timeout: 60_000 });
}

async function confirmStop(page: Page) {
  const dialog = page.getByRole("dialog", { name: "Stop your Lab server?" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Stop server" }).click();
  await expect(dialog).toBeHidden();
}

test("Launch Lab signs in to JupyterLab; stop it from the sidebar and from the dashboard", async ({ page }) => {
  test.setTimeout(180_000);
  await signUp(page);
  await page.getByRole("link", { name: "Lab", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Lab", level: 1 })).toBeVisible();
  await hydrated(page);
  await expect(page.getByText("Your server is not running.")).toBeVisible();
  await expect(page.getByText("No sessions yet")).toBeVisible();
  await expect(page.getByRole("progressbar", { name: /of 25 compute hours used/ })).toBeVisible();

  // No second password: the hub signs the person in through Keyward.
  await launchFrom(page, page);
  expect(page.url()).toMatch(/^http:\/\/127\.0\.0\.1:8430\//);

  // Back in Keyward: the sidebar shows the running server and stops it, after asking.
  await page.goto("/account/lab");
  await hydrated(page);
  const sidebar = page.getByRole("region", { name: "Lab server", exact: true });
  await expect(sidebar.getByText("Running")).toBeVisible();
  await expect(page.getByRole("link", { name: "Open JupyterLab" })).toHaveAttribute("href", hubLab);
  await sidebar.getByRole("button", { name: "Stop server" }).click();
  const dialog = page.getByRole("dialog", { name: "Stop your Lab server?" });
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(sidebar).toBeVisible();
  await sidebar.getByRole("button", { name: "Stop server" }).click();
  await confirmStop(page);
  await expect(page.getByText(/Your Lab server is (stopping|stopped)\./)).toBeVisible();
  await expect(sidebar).toBeHidden({ timeout: 30_000 });
  await expect(page.getByText("Your server is not running.")).toBeVisible();
  await expect(page.getByRole("cell", { name: "By you" })).toHaveCount(1);

  // The dashboard shows it stopped, with the plan and its hours.
  await page.getByRole("link", { name: "Dashboard" }).click();
  const card = page.getByRole("region", { name: "Lab", exact: true });
  await expect(card.getByText("Stopped", { exact: true })).toBeVisible();
  await expect(card.getByText(/of 25 compute hours · Free plan/)).toBeVisible();

  // Launched from the dashboard card, stopped from it too.
  await launchFrom(page, card);
  await page.goto("/account");
  await hydrated(page);
  await expect(card.getByText("Running", { exact: true })).toBeVisible();
  await card.getByRole("button", { name: "Stop server" }).click();
  await confirmStop(page);
  await expect(card.getByText("Stopped", { exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole("region", { name: "Lab server", exact: true })).toBeHidden();

  await page.getByRole("link", { name: "Lab", exact: true }).click();
  await expect(page.getByRole("cell", { name: "By you" })).toHaveCount(2);
});

test("Continue with credits is a setting the person turns on and off", async ({ page }) => {
  await signUp(page);
  await page.goto("/account/lab");
  await hydrated(page);
  const toggle = page.getByRole("checkbox", { name: "Continue with credits" });
  await expect(toggle).not.toBeChecked();
  await toggle.check();
  await expect(page.getByText("Continue with credits is on.")).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(toggle).toBeChecked();
  await toggle.uncheck();
  await expect(page.getByText("Continue with credits is off.")).toBeVisible();
});
