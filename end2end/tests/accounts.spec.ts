import { expect, test } from "@playwright/test";
import { PASSWORD, hydrated, randomEmail, signUp } from "./helpers";

test("sign up lands on the dashboard and the session survives a reload", async ({ page }) => {
  const email = await signUp(page);
  await expect(page.getByRole("heading", { name: "Dashboard", level: 1 })).toBeVisible();
  const sidebar = page.getByRole("complementary");
  await expect(sidebar.getByText(email)).toBeVisible();
  await expect(sidebar.getByRole("link", { name: "API Keys", exact: true })).toBeVisible();

  await page.reload();
  await hydrated(page);
  await expect(page).toHaveURL(/\/account$/);
  await expect(sidebar.getByText(email)).toBeVisible();
});

test("sign out, then sign in again", async ({ page }) => {
  const email = await signUp(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);

  // Signed out, the account redirects to sign-in and comes back after.
  await page.goto("/account/api-keys");
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/account\/api-keys$/);
  await expect(page.getByRole("heading", { name: "API Keys", level: 1 })).toBeVisible();
});

test("a wrong password shows one generic error", async ({ page }) => {
  const email = await signUp(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("not the password at all");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Incorrect email or password.");
  await expect(page).toHaveURL(/\/sign-in$/);
});

test("bad sign-up input is explained beside each field", async ({ page }) => {
  await page.goto("/sign-up");
  await hydrated(page);
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByText("Enter an email address like name@example.com.")).toBeVisible();
  await expect(page.getByText("Use at least 12 characters (5 so far).")).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
  await expect(page).toHaveURL(/\/sign-up$/);
});

test("the password visibility toggle works once hydrated", async ({ page }) => {
  await page.goto("/sign-in");
  await hydrated(page);
  const password = page.getByLabel("Password", { exact: true });
  await password.fill("peek-a-boo secret");
  await expect(password).toHaveAttribute("type", "password");
  await page.getByRole("button", { name: "Show password" }).click();
  await expect(password).toHaveAttribute("type", "text");
  await page.getByRole("button", { name: "Hide password" }).click();
  await expect(password).toHaveAttribute("type", "password");
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.screenshot({ path: "screenshots/sign-in.png" });
});

test("dashboard screenshots, light and dark", async ({ page }) => {
  const email = await signUp(page, randomEmail());
  // What a new account's dashboard must show: its email, empty stats, the way to keys.
  const summary = page.getByRole("region", { name: "Account summary" });
  await expect(summary.getByText("Active API keys")).toBeVisible();
  await expect(summary.getByText("0 in total")).toBeVisible();
  await expect(summary.getByText("Never")).toBeVisible();
  await expect(page.getByRole("main").getByText(email, { exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: "Manage API keys" })).toHaveAttribute("href", "/account/api-keys");
  await expect(page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Dashboard" })).toHaveAttribute(
    "aria-current",
    "page",
  );
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(300); // let colour transitions finish
    await page.screenshot({ path: `screenshots/dashboard-${scheme}.png`, fullPage: true });
  }
});
