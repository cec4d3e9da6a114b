import { expect, test } from "@playwright/test";
import { emailTo, hydrated, linkIn, PASSWORD, randomEmail, signUp, totpCode } from "./helpers";

test("a new account verifies its address from the emailed link", async ({ page }) => {
  const email = await signUp(page);
  const banner = page.getByRole("status").filter({ hasText: "Verify your email address" });
  await expect(banner).toBeVisible();
  await expect(banner).toContainText(email);

  const message = await emailTo(email, "Verify your email address");
  await page.goto(linkIn(message, "/verify-email"));
  await hydrated(page);
  await page.getByRole("button", { name: "Verify email address" }).click();
  await expect(page.getByRole("status")).toHaveText("Your email address is verified.");
  await page.getByRole("link", { name: "Go to your account" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole("region", { name: "Account summary" })).toBeVisible();
  await expect(page.getByText("Verify your email address")).toHaveCount(0);

  // The link works once.
  await page.goto(linkIn(message, "/verify-email"));
  await hydrated(page);
  await page.getByRole("button", { name: "Verify email address" }).click();
  await expect(page.getByRole("alert")).toContainText("expired or was already used");
});

test("a forgotten password is reset from the emailed link", async ({ page }) => {
  const email = await signUp(page);
  await page.goto(linkIn(await emailTo(email, "Verify your email address"), "/verify-email"));
  await hydrated(page);
  await page.getByRole("button", { name: "Verify email address" }).click();
  await expect(page.getByRole("status")).toHaveText("Your email address is verified.");
  await page.context().clearCookies();

  await page.goto("/sign-in");
  await hydrated(page);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await expect(page.getByRole("status")).toContainText(`If a verified account uses ${email}`);

  const reset = await emailTo(email, "Reset your Keyward password");
  await page.goto(linkIn(reset, "/reset-password"));
  await hydrated(page);
  const newPassword = "a brand new passphrase";
  await page.getByLabel("New password", { exact: true }).fill("short");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.locator("#field-password-message")).toContainText("at least 12 characters");
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByRole("status")).toContainText("Your password was changed");
  await page.getByRole("link", { name: "Sign in" }).click();
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(newPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/account$/);
});

test("another browser's session is signed out from the Security page", async ({ page, browser }) => {
  const email = await signUp(page, randomEmail());
  // The same person on a second device.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto("/sign-in");
  await hydrated(otherPage);
  await otherPage.getByLabel("Email").fill(email);
  await otherPage.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await otherPage.getByRole("button", { name: "Sign in" }).click();
  await expect(otherPage).toHaveURL(/\/account$/);

  await page.getByRole("link", { name: "Security" }).click();
  await expect(page).toHaveURL(/\/account\/security$/);
  await hydrated(page);
  const sessions = page.getByRole("region", { name: "Sessions" });
  await expect(sessions.getByRole("row")).toHaveCount(3); // header + two sessions
  await expect(sessions.getByText("This device")).toBeVisible();
  await sessions.getByRole("button", { name: /^Sign out .* at / }).click();
  await expect(page.getByRole("status").filter({ hasText: "Session signed out" })).toBeVisible();
  await expect(sessions.getByRole("row")).toHaveCount(2);

  await otherPage.reload();
  await expect(otherPage).toHaveURL(/\/sign-in\?next=/);
  await other.close();

  // Changing the password needs the current one; the message sits beside the field.
  await page.getByLabel("Current password", { exact: true }).fill("not my password at all");
  await page.getByLabel("New password", { exact: true }).fill("another good passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.locator("#field-current_password-message")).toHaveText("That is not your current password.");
  await page.getByLabel("Current password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Password changed" })).toBeVisible();
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(300);
    await page.screenshot({ path: `screenshots/security-${scheme}.png`, fullPage: true });
  }
});

test("two-factor sign-in: turn it on with a code, then sign in with one", async ({ page }) => {
  const email = await signUp(page);
  await page.getByRole("link", { name: "Security" }).click();
  await hydrated(page);
  const card = page.getByRole("region", { name: "Two-factor authentication" });
  await card.getByRole("button", { name: "Set up two-factor authentication" }).click();
  await expect(card.getByRole("img", { name: "QR code for your authenticator app" })).toBeVisible();
  const secret = (await card.getByLabel("Setup key").textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);

  // Turning it on asks for the password as well as a code from the new secret.
  await card.getByLabel("Code from the app").fill(await totpCode(secret));
  await card.getByRole("button", { name: "Turn on" }).click();
  await expect(card.locator("#field-two_factor_password-message")).toContainText("That is not your current password");
  await card.getByLabel("Your current password", { exact: true }).fill(PASSWORD);
  await card.getByLabel("Code from the app").fill("000000");
  await card.getByRole("button", { name: "Turn on" }).click();
  await expect(card.locator("#field-totp_code-message")).toContainText("That code is not right");
  await card.getByLabel("Code from the app").fill(await totpCode(secret));
  await card.getByRole("button", { name: "Turn on" }).click();
  const codes = page.getByRole("region", { name: "Recovery codes" });
  await expect(codes.getByRole("listitem")).toHaveCount(10);
  await page.screenshot({ path: "screenshots/two-factor-recovery-codes.png", fullPage: true });
  await codes.getByRole("button", { name: "I have saved these codes" }).click();
  await expect(card.getByRole("button", { name: "Turn off two-factor authentication" })).toBeVisible();

  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  const codeField = page.getByLabel("Authentication code");
  await expect(codeField).toBeVisible();
  // The code of the next step: the current one was used to turn two-factor on.
  await codeField.fill(await totpCode(secret, 1));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/account$/);
});
