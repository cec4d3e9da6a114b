import { expect, test, type Page } from "@playwright/test";
import { PASSWORD, hydrated, keywardCli, randomEmail, signUp, verifyEmail } from "./helpers";

// A phone on a slow link: the page is there, its WebAssembly is not yet. What a person
// types or chooses in that time is kept, Enter waits for the page instead of posting the
// form bare, and the buttons say they are not ready.

/** Holds the page's scripts and WebAssembly back 2 s (not its stylesheet). */
async function holdScripts(page: Page) {
  await page.route(
    (url) => /\/pkg\/.*\.(js|wasm)$/.test(url.pathname),
    async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await route.continue();
    },
  );
}

/**
 * Waits for the page to hydrate behind held scripts. Each file waits 2 s, and a page's
 * files can come as a chain of four (script, module, split loader, chunks) when the
 * browser does not preload them: 8 s before any work, more than `hydrated` allows.
 */
async function readyAfterHold(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 30_000 });
}

/** Opens `path` without waiting for its scripts (module scripts run before DOMContentLoaded). */
async function openBeforeHydration(page: Page, path: string) {
  await page.goto(path, { waitUntil: "commit" });
  // The whole streamed document is parsed ("interactive" comes before module scripts
  // run, and so before DOMContentLoaded): every field the server sent is there.
  await page.waitForFunction(() => document.readyState !== "loading");
  await expect(page.locator("body")).not.toBeEmpty();
  await expect(page.locator("html")).not.toHaveAttribute("data-hydrated", "true");
}

test("Enter on sign-in before the page is ready signs in once it is; its button looks disabled until then", async ({ browser, page }) => {
  const other = await (await browser.newContext()).newPage();
  const email = await signUp(other);
  await other.context().close();

  await holdScripts(page);
  await openBeforeHydration(page, "/sign-in");
  const button = page.getByRole("button", { name: "Sign in" });
  await expect(button).toHaveCSS("pointer-events", "none");
  await expect(button).toHaveCSS("opacity", "0.6");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("not this password");
  await page.getByLabel("Password", { exact: true }).press("Enter");
  // Nothing was posted by the browser itself: still the sign-in page, no bare 401.
  await expect(page).toHaveURL(/\/sign-in$/);
  await readyAfterHold(page);
  await expect(button).toHaveCSS("pointer-events", "auto");
  // Once ready, the held Enter is sent as the page sends it: the message beside the form.
  await expect(page.getByText("Incorrect email or password.")).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveValue(email);

  await openBeforeHydration(page, "/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Password", { exact: true }).press("Enter");
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole("heading", { name: "Dashboard", level: 1 })).toBeVisible();
});

test("a search, a sort, an amount and a pack chosen before the page is ready are what it uses", async ({ page }) => {
  await signUp(page);
  // Two keys to search between.
  await page.goto("/account/api-keys");
  await hydrated(page);
  for (const name of ["alpha-runner", "beta-export"]) {
    await page.getByRole("button", { name: "Create API Key" }).click();
    const dialog = page.getByRole("dialog", { name: "Create API key" });
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByRole("button", { name: "Create key" }).click();
    await page.getByRole("dialog", { name: "Your new API key" }).getByRole("button", { name: "Done" }).click();
  }

  await holdScripts(page);
  await openBeforeHydration(page, "/account/api-keys");
  await page.getByLabel("Search keys by name").fill("beta");
  await page.getByRole("combobox", { name: /^Sort by/ }).selectOption("name");
  await readyAfterHold(page);
  await expect(page.getByLabel("Search keys by name")).toHaveValue("beta");
  await expect(page.getByRole("combobox", { name: /^Sort by/ })).toHaveValue("name");
  // The list follows what was typed: only the matching key is left.
  await expect(page.getByRole("button", { name: "beta-export", exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "alpha-runner", exact: true })).toHaveCount(0);

  await openBeforeHydration(page, "/account/wallet");
  await page.getByLabel("Alert me below (credits)").fill("250");
  const buy = page.getByRole("region", { name: "Buy credits" });
  await buy.getByRole("radio", { name: /^5,000 credits/ }).check();
  await readyAfterHold(page);
  await expect(page.getByLabel("Alert me below (credits)")).toHaveValue("250");
  await expect(buy.getByRole("radio", { name: /^5,000 credits/ })).toBeChecked();
  await page.getByRole("button", { name: "Save alert" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved. You will get an email when your balance drops below 250 credits." })).toBeVisible();
  await buy.getByRole("button", { name: "Purchase" }).click();
  await expect(page.getByRole("heading", { name: "Checkout", level: 1 })).toBeVisible();
  await expect(page.getByRole("region", { name: "Order summary" }).getByRole("definition").first()).toHaveText("5,000");
});

test("invitations typed before the organization's page is ready are sent as typed", async ({ page }) => {
  const email = await signUp(page);
  await verifyEmail(page, email);
  await page.goto("/account/organizations");
  await hydrated(page);
  const slug = `early-${Date.now().toString(36)}`;
  await page.getByLabel("Name").fill("Early Typists");
  await page.getByLabel("URL").fill(slug);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page).toHaveURL(new RegExp(`/org/${slug}/members$`));

  await holdScripts(page);
  await openBeforeHydration(page, `/org/${slug}/members`);
  const invitee = randomEmail();
  await page.getByLabel("Email addresses").fill(invitee);
  await page.getByLabel("Role").selectOption("admin");
  await page.getByLabel("Organization URL").fill("typed early");
  await readyAfterHold(page);
  await expect(page.getByLabel("Email addresses")).toHaveValue(invitee);
  await expect(page.getByLabel("Role")).toHaveValue("admin");
  await expect(page.getByLabel("Organization URL")).toHaveValue("typed early");
  // What the page sends is what was typed: that address, as an Admin.
  await page.getByRole("button", { name: "Send invitations" }).click();
  await expect(page.getByText("1 invitation sent.")).toBeVisible();
  const pending = page.getByRole("region", { name: "Pending invitations" }).getByRole("row").filter({ hasText: invitee });
  await expect(pending.getByRole("cell", { name: "Admin", exact: true })).toBeVisible();
});

/** Every text field a person can type in on the page, in document order. */
const TEXT_FIELDS =
  "input:is([type=text], [type=email], [type=password], [type=number], [type=search], [type=url], :not([type])):visible:not([disabled]):not([readonly]), textarea:visible:not([disabled]):not([readonly])";

/** Types into every field of `path` before it is ready; afterwards each holds what was typed. */
async function typeBeforeHydration(page: Page, path: string) {
  await openBeforeHydration(page, path);
  const fields = await page.locator(TEXT_FIELDS).elementHandles();
  expect(fields.length, `${path} has fields to type in`).toBeGreaterThan(0);
  const typed: string[] = [];
  for (const [i, field] of fields.entries()) {
    const type = await field.getAttribute("type");
    const wanted = type === "number" ? String(17 + i) : type === "email" ? `early${i}@example.com` : `early ${i}`;
    // No more than the field takes, as typing into it would give.
    const max = Number(await field.getAttribute("maxlength")) || wanted.length;
    const value = wanted.slice(0, max);
    await field.fill(value);
    typed.push(value);
  }
  await readyAfterHold(page);
  for (const [i, field] of fields.entries()) {
    expect(await field.inputValue(), `${path}, field ${i + 1} of ${fields.length}`).toBe(typed[i]);
  }
}

test("every field of every page keeps what was typed before the page was ready", async ({ browser, page }) => {
  test.setTimeout(180_000);
  const signedOut = await (await browser.newContext()).newPage();
  await holdScripts(signedOut);
  for (const path of ["/sign-in", "/sign-up", "/forgot-password"]) {
    await typeBeforeHydration(signedOut, path);
  }
  await signedOut.context().close();

  const email = await signUp(page);
  await verifyEmail(page, email);
  keywardCli("admin", "grant", email);
  await page.goto("/account/organizations");
  await hydrated(page);
  const slug = `fields-${Date.now().toString(36)}`;
  await page.getByLabel("Name").fill("Field Day");
  await page.getByLabel("URL").fill(slug);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page).toHaveURL(new RegExp(`/org/${slug}/members$`));

  await holdScripts(page);
  for (const path of [
    // (The keys page has a field only once there are keys: the test above.)
    "/account/wallet",
    "/account/organizations",
    "/account/security",
    `/org/${slug}`,
    `/org/${slug}/members`,
    "/account/admin/promo-codes",
    "/account/admin/credits",
    "/account/admin/webhooks",
  ]) {
    await typeBeforeHydration(page, path);
  }
});
