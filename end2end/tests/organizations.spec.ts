import { expect, test } from "@playwright/test";
import { emailTo, hydrated, linkIn, signUp } from "./helpers";

// Two people in two browsers: A creates an organization and invites B by email (read
// from the local SMTP server); B follows the link and accepts; A sees B and removes
// them; B's next page load no longer shows the organization.

test("an organization invites a person by email, who accepts; removing them ends their access", async ({ browser }) => {
  test.setTimeout(90_000);
  const a = await (await browser.newContext()).newPage();
  const b = await (await browser.newContext()).newPage();
  await signUp(a);
  const bEmail = await signUp(b);
  // Invitations reach verified addresses only.
  await b.goto(linkIn(await emailTo(bEmail, "Verify your email address"), "/verify-email"));
  await hydrated(b);
  await b.getByRole("button", { name: "Verify email address" }).click();
  await expect(b.getByRole("status")).toHaveText("Your email address is verified.");

  await a.goto("/account/organizations");
  await hydrated(a);
  await expect(a.getByText("You are not in any organization yet")).toBeVisible();
  await a.getByLabel("Name").fill("Acme Research");
  const slug = await a.getByLabel("URL").inputValue();
  expect(slug).toBe("acme-research");
  const unique = `acme-${Date.now().toString(36)}`;
  await a.getByLabel("URL").fill(unique);
  await a.getByRole("button", { name: "Create organization" }).click();
  await expect(a).toHaveURL(new RegExp(`/account/organizations/${unique}$`));
  await expect(a.getByRole("heading", { name: "Acme Research", level: 1 })).toBeVisible();
  await hydrated(a);

  await a.getByLabel("Email addresses").fill(bEmail);
  await a.getByRole("button", { name: "Send invitations" }).click();
  await expect(a.getByText("1 invitation sent.")).toBeVisible();
  const pending = a.getByRole("region", { name: "Pending invitations" });
  await expect(pending.getByRole("cell", { name: bEmail, exact: true })).toBeVisible();

  const link = linkIn(await emailTo(bEmail, "Join Acme Research"), "/account/invitations");
  await b.goto(link);
  await hydrated(b);
  await expect(b.getByRole("heading", { name: "Join Acme Research" })).toBeVisible();
  await b.getByRole("button", { name: "Accept the invitation to Acme Research" }).click();
  await expect(b).toHaveURL(new RegExp(`/account/organizations/${unique}$`));
  await expect(b.getByText("you are a Member")).toBeVisible();
  // The link works once.
  await b.goto(link);
  await expect(b.getByRole("heading", { name: "This invitation cannot be used" })).toBeVisible();

  await a.reload();
  await hydrated(a);
  const members = a.getByRole("region", { name: "Members" });
  await expect(members.getByRole("cell", { name: bEmail, exact: true })).toBeVisible();
  await members.getByRole("button", { name: `Remove ${bEmail}` }).click();
  await expect(a.getByText(`${bEmail} removed.`)).toBeVisible();
  await expect(members.getByRole("cell", { name: bEmail, exact: true })).toBeHidden();

  await b.goto(`/account/organizations/${unique}`);
  await hydrated(b);
  await expect(b.getByRole("heading", { name: "Organization not found" })).toBeVisible();
  await b.goto("/account/organizations");
  await hydrated(b);
  await expect(b.getByText("You are not in any organization yet")).toBeVisible();
});
