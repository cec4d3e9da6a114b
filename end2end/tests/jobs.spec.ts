import { expect, test } from "@playwright/test";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { serviceToken } from "../playwright.config";
import { createKey, hydrated, keywardCli, operatorGrant, signUp } from "./helpers";

/** The job service's side: submit a job for `key`, then report its progress. */
function jobService(request: import("@playwright/test").APIRequestContext) {
  const headers = { Authorization: `Bearer ${serviceToken}` };
  return {
    submit: async (data: Record<string, unknown>) => {
      const reply = await request.post("/api/v1/jobs", { headers, data });
      expect(reply.status(), await reply.text()).toBe(201);
      return (await reply.json()).job as { id: string };
    },
    report: async (id: string, data: Record<string, unknown>) => {
      const reply = await request.patch(`/api/v1/jobs/${id}`, { headers, data });
      expect(reply.status(), await reply.text()).toBe(200);
    },
  };
}

test("a person sees a running job, cancels it, and gets the held credits back", async ({ page, request }) => {
  const email = await signUp(page);
  operatorGrant(email, 500, "Welcome credits");
  const key = await createKey(page, "runner", ["jobs:submit", "jobs:read", "jobs:write"]);
  const service = jobService(request);
  const job = await service.submit({
    key, device: "ibm_brisbane", name: "bell-state", shots: 1024, estimated_cost: 120,
    idempotency_key: `bell-${email}`,
  });
  await service.report(job.id, { status: "running", status_message: "Calibrating" });

  // The dashboard and the wallet say what is held.
  await page.getByRole("link", { name: "Dashboard", exact: true }).click();
  await expect(page.getByText("120 credits on hold")).toBeVisible();
  await page.getByRole("link", { name: "Wallet", exact: true }).click();
  await expect(page.getByRole("region", { name: "Credits" }).getByText("On hold")).toBeVisible();
  await expect(page.getByText("380 credits", { exact: true })).toBeVisible();

  await page.getByRole("link", { name: "Jobs", exact: true }).click();
  await hydrated(page);
  const row = page.getByRole("row").filter({ hasText: "bell-state" });
  await expect(row.getByText("Running", { exact: true })).toBeVisible();
  await expect(row.getByText("Calibrating")).toBeVisible();
  await expect(row.getByText("~120")).toBeVisible();

  // Cancel, after confirming: the service is asked, and the hold stays until it confirms.
  await row.getByRole("button", { name: 'Cancel job "bell-state"' }).click();
  const dialog = page.getByRole("dialog", { name: 'Cancel "bell-state"?' });
  await expect(dialog.getByText("The 120 credits held for it come back")).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel job" }).click();
  await expect(page.getByRole("status").getByText('Cancel requested for "bell-state"')).toBeVisible();
  await expect(row.getByText("Cancel requested", { exact: true })).toBeVisible();
  await expect(row.getByRole("button", { name: 'Cancel job "bell-state"' })).toHaveCount(0);
  await service.report(job.id, { status: "cancelled", status_message: "Stopped at your request" });
  // The page reads live jobs again by itself.
  await expect(row.getByText("Cancelled", { exact: true })).toBeVisible({ timeout: 15_000 });

  await row.getByRole("button", { name: "bell-state" }).click();
  const detail = page.getByRole("row").filter({ hasText: "Timeline" });
  await expect(detail.getByText(`Cancel requested by ${email}`)).toBeVisible();
  await expect(detail.getByRole("cell", { name: "Released", exact: true })).toBeVisible();
  await expect(detail.getByRole("cell", { name: "+120" })).toBeVisible();

  // A second job, completed on another device; the filters narrow the list.
  const done = await service.submit({
    key, device: "simulator", name: "ghz-5", estimated_cost: 50, idempotency_key: `ghz-${email}`,
  });
  await service.report(done.id, { status: "running" });
  await service.report(done.id, { status: "completed", final_cost: 35 });
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole("row").filter({ hasText: "ghz-5" })).toBeVisible();
  await page.getByLabel("Status").selectOption("completed");
  await expect(page.getByRole("row").filter({ hasText: "ghz-5" }).getByText("35", { exact: true })).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: "bell-state" })).toHaveCount(0);
  await page.getByLabel("Status").selectOption("");
  await page.getByLabel("Device").selectOption("ibm_brisbane");
  await expect(page.getByRole("row").filter({ hasText: "bell-state" })).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: "ghz-5" })).toHaveCount(0);

  // The export holds what the filters show.
  const href = await page.getByRole("link", { name: "Export CSV" }).getAttribute("href");
  expect(href).toContain("device=ibm_brisbane");
  const csv = await (await page.request.get(href!)).text();
  expect(csv).toContain("bell-state");
  expect(csv).not.toContain("ghz-5");

  // The wallet has its credits back, less what the completed job cost.
  await page.getByRole("link", { name: "Wallet", exact: true }).click();
  await expect(page.getByText("465 credits", { exact: true })).toBeVisible();
});

test("an operator adds a webhook endpoint and sees signed deliveries arrive", async ({ page, request }) => {
  // The operator's service: a real HTTP server on loopback.
  const received: { signature: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ signature: String(req.headers["keyward-signature"] ?? ""), body });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  try {
    const email = await signUp(page);
    keywardCli("admin", "grant", email);
    operatorGrant(email, 100, "Credits");
    const key = await createKey(page, "hooked", ["jobs:submit", "jobs:write"]);
    await page.goto("/account/admin/webhooks");
    await hydrated(page);
    // Bad input is named beside its field and adds nothing.
    await page.getByLabel("Endpoint URL").fill("ftp://nowhere");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await expect(page.getByLabel("Endpoint URL")).toHaveAccessibleDescription(/http:\/\/ or https:\/\//);
    await expect(page.getByText("Choose at least one event.")).toBeVisible();
    await page.getByLabel("Endpoint URL").fill(url);
    await page.getByRole("checkbox", { name: /job\.failed/ }).check();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const secret = await page.getByRole("textbox", { name: "Signing secret" }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    const endpoints = page.getByRole("region", { name: "Endpoints" });
    await expect(endpoints.getByRole("row").filter({ hasText: url })).toContainText("job.failed");

    const service = jobService(request);
    const job = await service.submit({ key, device: "sim", estimated_cost: 10, idempotency_key: `hook-${email}` });
    await service.report(job.id, { status: "failed", status_message: "Device offline" });
    // Other tests' jobs fail too, and every endpoint hears of them: this job's event is the one.
    const mine = () => received.filter((r) => JSON.parse(r.body).data?.object?.id === job.id);
    await expect.poll(() => mine().length, { timeout: 15_000 }).toBe(1);
    const event = JSON.parse(mine()[0].body);
    expect(event.type).toBe("job.failed");
    expect(event.data.object.status_message).toBe("Device offline");
    expect(mine()[0].signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    await page.reload();
    await hydrated(page);
    const deliveries = page.getByRole("region", { name: "Recent deliveries" });
    const delivery = deliveries.getByRole("row").filter({ hasText: event.id }).filter({ hasText: url });
    await expect(delivery.getByText("Delivered", { exact: true })).toBeVisible();
    await expect(page.getByRole("textbox", { name: "Signing secret" })).toHaveCount(0);
    expect(await page.content()).not.toContain(secret);
    await delivery.getByRole("button", { name: `Resend job.failed ${event.id}` }).click();
    await expect(page.getByRole("status").getByText("Queued to send again")).toBeVisible();
    await expect.poll(() => mine().length, { timeout: 15_000 }).toBe(2);
    expect(JSON.parse(mine()[1].body).id).toBe(event.id);
  } finally {
    server.close();
  }
});
