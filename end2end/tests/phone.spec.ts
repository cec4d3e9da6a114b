import { expect, test, type Page } from "@playwright/test";
import { hydrated, signUp } from "./helpers";

// Below 768 px the sidebar hides behind a menu button and the key table becomes cards.
test.use({ viewport: { width: 390, height: 844 } });

async function createKey(page: Page, name: string) {
  await page.getByRole("button", { name: "Create API Key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("button", { name: "Create key" }).click();
  await page.getByRole("dialog", { name: "Your new API key" }).getByRole("button", { name: "Done" }).click();
  await expect(page.getByRole("button", { name, exact: true })).toBeVisible();
}

/** Fails if the page is wider than the window (something would scroll sideways). */
async function expectNoSidewaysScroll(page: Page, where: string) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  expect(scrollWidth, `${where} is ${scrollWidth}px wide in a ${clientWidth}px window`).toBeLessThanOrEqual(clientWidth);
}

test("the navigation is a disclosure behind a menu button", async ({ page }) => {
  await signUp(page);
  const menu = page.getByRole("button", { name: "Menu" });
  const nav = page.getByRole("navigation", { name: "Account" });
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(nav).toBeHidden();
  // The page's own heading is the first thing under the top bar.
  const heading = await page.getByRole("heading", { name: "Dashboard", level: 1 }).boundingBox();
  expect(heading!.y).toBeLessThan(150);

  await menu.click();
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  await expect(nav).toBeVisible();
  await page.screenshot({ path: "screenshots/phone-menu-open.png" });
  // Escape closes it and leaves focus on the button.
  await nav.getByRole("link", { name: "Security" }).focus();
  await page.keyboard.press("Escape");
  await expect(nav).toBeHidden();
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(menu).toBeFocused();

  // Keyboard only: open, follow a link, and the menu closes on the new page.
  await page.keyboard.press("Enter");
  await expect(nav).toBeVisible();
  await nav.getByRole("link", { name: "API Keys" }).click();
  await expect(page.getByRole("heading", { name: "API Keys", level: 1 })).toBeVisible();
  await expect(nav).toBeHidden();
  await expect(menu).toHaveAttribute("aria-expanded", "false");

  // Signing out is in the menu too.
  await menu.click();
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
});

test("keys are cards with the same names and actions", async ({ page }) => {
  await signUp(page);
  await page.goto("/account/api-keys");
  await hydrated(page);
  await createKey(page, "ci-runner");
  await createKey(page, "a-rather-long-key-name-for-a-phone");

  for (const name of ["ci-runner", "a-rather-long-key-name-for-a-phone"]) {
    const card = page.getByRole("row").filter({ has: page.getByRole("button", { name, exact: true }) });
    // One card per key, as wide as the screen allows, with every action inside it.
    const box = (await card.boundingBox())!;
    expect(box.width).toBeGreaterThan(300);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    for (const action of [`Copy ID of key "${name}"`, `Regenerate key "${name}"`, `Delete key "${name}"`]) {
      const button = card.getByRole("button", { name: action });
      await expect(button).toBeInViewport();
    }
    await expect(card.getByText("Active", { exact: true })).toBeVisible();
    // Each value carries its column's name, drawn before it on a card.
    const lastUsed = card.getByRole("cell").filter({ hasText: /^Never$/ });
    await expect(lastUsed).toBeVisible();
    expect(await lastUsed.evaluate((td) => getComputedStyle(td, "::before").content)).toContain("Last used");
  }

  // The card opens its details, and its actions work as on a wide screen.
  await page.getByRole("button", { name: "ci-runner", exact: true }).click();
  await expect(page.getByRole("region", { name: 'Details of "ci-runner"' })).toBeVisible();
  await page.getByRole("button", { name: 'Delete key "ci-runner"' }).click();
  const dialog = page.getByRole("dialog", { name: /Delete/ });
  await dialog.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByRole("button", { name: "ci-runner", exact: true })).toHaveCount(0);
});

test("nothing scrolls sideways at 360 px", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  for (const path of ["/sign-in", "/sign-up", "/forgot-password"]) {
    await page.goto(path);
    await hydrated(page);
    await expectNoSidewaysScroll(page, path);
  }
  await signUp(page);
  await page.goto("/account/api-keys");
  await hydrated(page);
  await createKey(page, "a-very-long-key-name-that-keeps-going-and-going");
  await page.getByRole("button", { name: "a-very-long-key-name-that-keeps-going-and-going", exact: true }).click();
  await expect(page.getByRole("region", { name: /Details of/ })).toBeVisible();
  await expectNoSidewaysScroll(page, "/account/api-keys");
  for (const path of ["/account", "/account/security"]) {
    await page.goto(path);
    await hydrated(page);
    await expectNoSidewaysScroll(page, path);
  }
});
