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

const mailApi = `http://127.0.0.1:${process.env.E2E_MAIL_API_PORT ?? "1180"}`;

interface MaildevEmail {
  subject: string;
  text: string;
  to: { address: string }[];
}

/** Waits for the newest email to `to` whose subject contains `subject`, from the real SMTP server. */
export async function emailTo(to: string, subject: string): Promise<MaildevEmail> {
  let found: MaildevEmail | undefined;
  await expect(async () => {
    const response = await fetch(`${mailApi}/api/email?limit=200&sort=asc`);
    const emails = (await response.json()) as MaildevEmail[];
    found = emails
      .filter((e) => e.to.some((r) => r.address === to) && e.subject.includes(subject))
      .pop();
    expect(found, `an email to ${to} about "${subject}"`).toBeTruthy();
  }).toPass({ timeout: 10_000 });
  return found!;
}

/** The first link in an email's text that starts with `path` on this server. */
export function linkIn(email: { text: string }, path: string): string {
  const match = email.text.match(new RegExp(`https?://[^\\s]+${path}\\?token=[0-9a-f]+`));
  expect(match, `a ${path} link`).toBeTruthy();
  return new URL(match![0]).pathname + new URL(match![0]).search;
}
