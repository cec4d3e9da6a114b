import { expect, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import * as path from "node:path";

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

/** Opens the verification link emailed at sign-up and verifies the address. */
export async function verifyEmail(page: Page, email: string): Promise<void> {
  await page.goto(linkIn(await emailTo(email, "Verify your email address"), "/verify-email"));
  await hydrated(page);
  await page.getByRole("button", { name: "Verify email address" }).click();
  await expect(page.getByRole("status")).toHaveText("Your email address is verified.");
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

/**
 * The TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) for a base32 secret, `stepsAhead` steps
 * from now. Within 3 s of a step's end it waits for the next step first, so the code is
 * still the one it was computed for when the server checks it (the server also takes the
 * steps either side, but a code must come from a later step than the last one used).
 */
export async function totpCode(secretBase32: string, stepsAhead = 0): Promise<string> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 3_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secretBase32.replace(/=+$/, "").toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  }
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + stepsAhead));
  const hmac = createHmac("sha1", key).update(counter).digest();
  const offset = hmac[hmac.length - 1] & 0xf;
  const value = (hmac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, "0");
}

/** Runs the `keyward` command line on the test server's database, as an operator would. */
export function keywardCli(...args: string[]): string {
  const root = path.resolve(__dirname, "..", "..");
  return execFileSync(path.join(root, "target/release/keyward"), args, {
    cwd: root,
    env: { ...process.env, DATABASE_URL: "sqlite://target/e2e.db", RUST_LOG: "warn" },
  }).toString();
}

/** `keyward credits grant EMAIL N --reason TEXT`. */
export function operatorGrant(email: string, credits: number, reason: string): void {
  keywardCli("credits", "grant", email, String(credits), "--reason", reason);
}

/**
 * Creates a key on the API Keys page as a person would (reached from the sidebar), with
 * `scopes` ticked beside the default, and answers the value the page reveals once.
 */
export async function createKey(page: Page, name: string, scopes: string[] = []): Promise<string> {
  await page.getByRole("link", { name: "API Keys", exact: true }).click();
  await page.getByRole("button", { name: "Create API Key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create API key" });
  await dialog.getByLabel("Name").fill(name);
  for (const scope of scopes) {
    await dialog.getByRole("checkbox", { name: new RegExp(scope) }).check();
  }
  await dialog.getByRole("button", { name: "Create key" }).click();
  const reveal = page.getByRole("dialog", { name: "Your new API key" });
  const secret = await reveal.getByRole("textbox", { name: "API key value" }).inputValue();
  await reveal.getByRole("button", { name: "Done" }).click();
  return secret;
}

/** A promo code name nobody else's test uses. */
export function randomCode(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex").toUpperCase()}`;
}

/** Types a card into the card form, in its frame (localstripe's inputs carry placeholders only). */
export async function enterCard(page: Page, number: string): Promise<void> {
  const card = page.frameLocator('iframe[title="Card details"]').locator("body");
  await card.getByPlaceholder("number").fill(number);
  await card.getByPlaceholder("exp_month").fill("12");
  await card.getByPlaceholder("exp_year").fill("30");
  await card.getByPlaceholder("cvc").fill("123");
  await card.getByPlaceholder("postal_code").fill("10001");
}
