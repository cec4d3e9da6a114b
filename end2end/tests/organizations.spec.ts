import { expect, test, type Page } from "@playwright/test";
import { emailTo, hydrated, keywardCli, linkIn, randomCode, signUp, verifyEmail } from "./helpers";

// Two people in two browsers, as the organizations issue describes: A creates an
// organization and invites B by email (read from the local SMTP server); B accepts
// from the link; A makes an organization key, which B sees but cannot reveal or
// change; A buys credits for the organization and allocates some to B; B asks for
// more and A approves; A removes B, and B's next page load no longer shows it.

async function switchTo(page: Page, workspace: string) {
  await page.getByRole("button", { name: /^Workspace/ }).click();
  await page.getByRole("link", { name: new RegExp(`^${workspace}`) }).click();
}

test("a team shares keys and credits; roles and removal hold", async ({ browser }) => {
  test.setTimeout(120_000);
  const a = await (await browser.newContext()).newPage();
  const b = await (await browser.newContext()).newPage();
  const aEmail = await signUp(a);
  const bEmail = await signUp(b);
  // Only verified people invite, and invitations reach verified addresses only.
  await verifyEmail(a, aEmail);
  await verifyEmail(b, bEmail);

  await a.goto("/account/organizations");
  await hydrated(a);
  await expect(a.getByText("You are not in any organization yet")).toBeVisible();
  await a.getByLabel("Name").fill("Acme Research");
  expect(await a.getByLabel("URL").inputValue()).toBe("acme-research");
  const unique = `acme-${Date.now().toString(36)}`;
  await a.getByLabel("URL").fill(unique);
  await a.getByRole("button", { name: "Create organization" }).click();
  await expect(a).toHaveURL(new RegExp(`/org/${unique}/members$`));
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
  await expect(b).toHaveURL(new RegExp(`/org/${unique}$`));
  await expect(b.getByText("you are a Member")).toBeVisible();
  // The link works once.
  await b.goto(link);
  await expect(b.getByRole("heading", { name: "This invitation cannot be used" })).toBeVisible();

  // A makes a key for the organization, in its workspace.
  await a.goto("/account");
  await hydrated(a);
  await switchTo(a, "Acme Research");
  await expect(a).toHaveURL(new RegExp(`/org/${unique}$`));
  await a.getByRole("navigation", { name: "Organization" }).getByRole("link", { name: "API Keys" }).click();
  await expect(a).toHaveURL(new RegExp(`/org/${unique}/api-keys$`));
  await a.getByRole("button", { name: "Create API Key" }).click();
  const create = a.getByRole("dialog", { name: "Create API key" });
  await create.getByLabel("Name").fill("team-pipeline");
  await create.getByRole("button", { name: "Create key" }).click();
  const reveal = a.getByRole("dialog", { name: "Your new API key" });
  await expect(reveal.getByRole("textbox", { name: "API key value" })).toHaveValue(/^kw_/);
  await reveal.getByRole("button", { name: "Done" }).click();
  await expect(a.getByRole("button", { name: "team-pipeline", exact: true })).toBeVisible();
  // It is not among A's personal keys.
  await switchTo(a, "Personal");
  await a.getByRole("link", { name: "API Keys", exact: true }).click();
  await expect(a.getByText("No API keys yet")).toBeVisible();

  // B sees the key and its details, without the controls that change it.
  await b.goto(`/org/${unique}/api-keys`);
  await hydrated(b);
  await expect(b.getByRole("button", { name: "team-pipeline", exact: true })).toBeVisible();
  await expect(b.getByRole("button", { name: "Create API Key" })).toHaveCount(0);
  await expect(b.getByRole("button", { name: 'Regenerate key "team-pipeline"' })).toHaveCount(0);
  await expect(b.getByRole("button", { name: 'Delete key "team-pipeline"' })).toHaveCount(0);
  await b.getByRole("button", { name: "team-pipeline", exact: true }).click();
  await expect(b.getByText(/Created by .*@example\.com/)).toBeVisible();
  await expect(b.getByRole("button", { name: "Deactivate" })).toBeHidden();

  // A buys credits for the organization (a code pays them) and gives B 300.
  const code = randomCode("TEAM");
  keywardCli("promo", "create", code, "--percent", "100");
  await a.goto(`/org/${unique}/wallet`);
  await hydrated(a);
  const buy = a.getByRole("region", { name: "Buy credits" });
  await buy.getByRole("radio", { name: /^1,000 credits/ }).check();
  await buy.getByRole("button", { name: "Purchase" }).click();
  await expect(a).toHaveURL(new RegExp(`/org/${unique}/wallet/checkout/`));
  await hydrated(a);
  await a.getByRole("button", { name: "Add promotion code" }).click();
  await a.getByLabel("Promotion code").fill(code);
  await a.getByRole("button", { name: "Apply" }).click();
  await a.getByRole("button", { name: "Complete Order" }).click();
  await expect(a.getByRole("status").filter({ hasText: "Order complete." })).toContainText(
    "1,000 credits were added to Acme Research's wallet.",
  );
  await a.getByRole("link", { name: "Back to Wallet" }).click();
  await expect(a).toHaveURL(new RegExp(`/org/${unique}/wallet$`));
  await expect(a.getByRole("region", { name: "Credits", exact: true }).getByText("1,000 credits")).toBeVisible();

  await a.getByRole("navigation", { name: "Organization" }).getByRole("link", { name: "Dashboard" }).click();
  const allocate = a.getByRole("region", { name: "Allocate credits" });
  await allocate.getByLabel("Credits for each member").fill("300");
  await allocate.getByRole("checkbox", { name: bEmail }).check();
  await allocate.getByRole("button", { name: "Allocate credits" }).click();
  await expect(a.getByText("Allocated. The organization has 700 credits left.")).toBeVisible();

  // B has the 300, and asks for 200 more.
  await b.goto(`/org/${unique}`);
  await hydrated(b);
  await expect(b.getByRole("region", { name: "Your allocation" }).getByText("300 credits")).toBeVisible();
  const ask = b.getByRole("region", { name: "Request credits" });
  await ask.getByLabel("Credits").fill("lots");
  await ask.getByRole("button", { name: "Request credits" }).click();
  await expect(ask.getByText("Enter a whole number of credits, at least 1.")).toBeVisible();
  await ask.getByLabel("Credits").fill("200");
  await ask.getByLabel("Note").fill("Benchmark runs");
  await ask.getByRole("button", { name: "Request credits" }).click();
  await expect(b.getByText("Requested 200 credits.")).toBeVisible();
  await expect(b.getByRole("region", { name: "Your requests" }).getByText("Waiting")).toBeVisible();

  // A approves; B is told by email and on their dashboard.
  await a.reload();
  await hydrated(a);
  await a.getByRole("button", { name: `Approve 200 credits for ${bEmail}` }).click();
  await expect(a.getByText("Answered. The member was told by email.")).toBeVisible();
  await emailTo(bEmail, "Acme Research approved your request for credits");
  await b.goto("/account");
  await hydrated(b);
  await expect(b.getByText("Acme Research approved your request: 200 credits are in your wallet.")).toBeVisible();
  await b.getByRole("link", { name: "Wallet", exact: true }).click();
  await expect(b.getByRole("region", { name: "Credits", exact: true }).getByText("500 credits")).toBeVisible();

  // A removes B: B's unspent 500 go back, and the organization is gone for B.
  await a.getByRole("navigation", { name: "Organization" }).getByRole("link", { name: "Members" }).click();
  const members = a.getByRole("region", { name: "Members" });
  await expect(members.getByRole("cell", { name: bEmail, exact: true })).toBeVisible();
  await members.getByRole("button", { name: `Remove ${bEmail}` }).click();
  // The dialog says what happens to keys B made (none here) before anything changes.
  const removal = a.getByRole("dialog", { name: `Remove ${bEmail}?` });
  await expect(removal.getByText("They made no keys for this organization.")).toBeVisible();
  await removal.getByRole("button", { name: `Remove ${bEmail}` }).click();
  await expect(a.getByText(`${bEmail} removed.`)).toBeVisible();
  await expect(members.getByRole("cell", { name: bEmail, exact: true })).toBeHidden();

  await b.goto(`/org/${unique}/api-keys`);
  await hydrated(b);
  await expect(b.getByRole("heading", { name: "Organization not found" })).toBeVisible();
  await b.goto("/account/wallet");
  await hydrated(b);
  await expect(b.getByRole("region", { name: "Credits", exact: true }).getByText("0 credits")).toBeVisible();
  await b.goto("/account/organizations");
  await hydrated(b);
  await expect(b.getByText("You are not in any organization yet")).toBeVisible();
});

test("a name that tries to end the title stays text, on the server's page and after hydration", async ({ page }) => {
  await signUp(page);
  await page.goto("/account/organizations");
  await hydrated(page);
  const name = `</title><meta http-equiv=refresh content="0;url=//evil.example">`;
  const slug = `title-${Date.now().toString(36)}`;
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("URL").fill(slug);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page).toHaveURL(new RegExp(`/org/${slug}/members$`));
  for (const path of [`/org/${slug}`, `/org/${slug}/members`]) {
    // The server's HTML, as it arrives.
    const html = await (await page.request.get(path)).text();
    expect(html).not.toContain("<meta http-equiv=refresh");
    expect(html).toContain("&lt;/title&gt;&lt;meta http-equiv=refresh");
    // In the browser: no meta element was planted, the page stays, the title is the text.
    await page.goto(path);
    await hydrated(page);
    await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
    // No meta element at all: nothing can refresh or redirect the page (no need to wait
    // and see that it did not).
    expect(await page.locator("meta[http-equiv]").count()).toBe(0);
    expect(new URL(page.url()).pathname).toBe(path);
    expect(await page.title()).toBe(`${name} · Keyward`);
  }
});
