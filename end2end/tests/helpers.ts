import { expect, type Page } from "@playwright/test";
import { randomBytes } from "node:crypto";

export const PASSWORD = "correct horse battery staple";

/** A fresh random user per test, so tests never share state. */
export function randomEmail(): string {
  return `e2e-${randomBytes(6).toString("hex")}@example.com`;
}

/** Waits until the WebAssembly has hydrated the page. */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

export async function signUp(page: Page, email = randomEmail()): Promise<string> {
  await page.goto("/sign-up");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await hydrated(page);
  return email;
}
