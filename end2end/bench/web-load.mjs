// `make bench-web`: what a visit costs, for every page. For each page, on loopback and
// on a "fast 4G" profile (9 Mbit/s down, 40 ms latency, by Chrome DevTools Protocol
// emulation): the files and bytes it took on the wire (compressed) and the median time
// from navigation to hydration (`html[data-hydrated]`) over cold loads (a new browser
// context each, so an empty cache); then a second visit with the cache warm (fast 4G);
// then, for the signed-in pages, the WebAssembly files a move to it inside the app
// fetches after the dashboard. Usage: node web-load.mjs BASE_URL [LOADS] [DATABASE_URL]
import { chromium } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const base = process.argv[2] ?? "http://127.0.0.1:3300";
const loads = Number(process.argv[3] ?? 5);
const databaseUrl = process.argv[4] ?? "sqlite://target/bench/web.db";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const FAST_4G = { offline: false, latency: 40, downloadThroughput: 9_000_000 / 8, uploadThroughput: 9_000_000 / 8 };
const PROFILES = { loopback: null, "fast 4G": FAST_4G };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});

const hydrated = (page) => page.locator("html[data-hydrated]").waitFor();

/** An operator with a few keys, an organization and an open order: what the pages show. */
async function signedIn() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const email = `bench-${Date.now()}@example.com`;
  await page.goto(`${base}/sign-up`);
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("correct horse battery staple");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.waitForURL(/\/account$/);
  execFileSync(path.join(root, "target/release/keyward"), ["admin", "grant", email], {
    cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl, RUST_LOG: "warn" },
  });
  await page.goto(`${base}/account/api-keys`);
  await hydrated(page);
  for (const name of ["ci-runner", "analytics-export", "staging-deploy"]) {
    await page.getByRole("button", { name: "Create API Key" }).click();
    const dialog = page.getByRole("dialog", { name: "Create API key" });
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByRole("button", { name: "Create key" }).click();
    await page.getByRole("dialog", { name: "Your new API key" }).getByRole("button", { name: "Done" }).click();
    await page.getByRole("button", { name, exact: true }).waitFor();
  }
  const slug = `bench-${Date.now().toString(36)}`;
  await page.goto(`${base}/account/organizations`);
  await hydrated(page);
  await page.getByLabel("Name").fill("Bench Research");
  await page.getByLabel("URL").fill(slug);
  await page.getByRole("button", { name: "Create organization" }).click();
  await page.waitForURL(new RegExp(`/org/${slug}/members$`));
  await page.goto(`${base}/account/wallet`);
  await hydrated(page);
  const buy = page.getByRole("region", { name: "Buy credits" });
  await buy.getByRole("radio", { name: /^1,000 credits/ }).check();
  await buy.getByRole("button", { name: "Purchase" }).click();
  await page.waitForURL(/\/wallet\/checkout\//);
  const checkout = new URL(page.url()).pathname;
  const state = await context.storageState();
  await context.close();
  return { state, slug, checkout };
}

/** Watches for the app marking itself hydrated, from inside the page. (The script runs
 * before <html> exists, so it watches the whole document.) */
async function watchHydration(context) {
  await context.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.documentElement?.hasAttribute("data-hydrated")) {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, attributeFilter: ["data-hydrated"], subtree: true });
  });
}

/** Records each response's URL, encoding and bytes on the wire. */
async function recordRequests(context, page, conditions) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  if (conditions) await cdp.send("Network.emulateNetworkConditions", conditions);
  const requests = new Map();
  cdp.on("Network.responseReceived", ({ requestId, response }) => {
    requests.set(requestId, {
      url: response.url, fromCache: response.fromDiskCache || response.fromMemoryCache,
      encoding: response.headers["content-encoding"] ?? response.headers["Content-Encoding"] ?? "none", bytes: 0,
    });
  });
  cdp.on("Network.loadingFinished", ({ requestId, encodedDataLength }) => {
    const request = requests.get(requestId);
    if (request) request.bytes = encodedDataLength;
  });
  return requests;
}

async function visit(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 60_000 });
  return page.evaluate(() => window.__hydratedAt);
}

/** One cold load: hydration time (ms since navigation start) and the responses. With
 * `again`, a second visit in the same context (warm cache) is timed as well. */
async function load(url, conditions, storageState, again = false) {
  const context = await browser.newContext({ storageState });
  await watchHydration(context);
  const page = await context.newPage();
  const requests = await recordRequests(context, page, conditions);
  const hydratedAt = await visit(page, url);
  await page.waitForLoadState("networkidle");
  const assets = [...requests.values()];
  let warm;
  if (again) warm = await visit(page, url);
  await context.close();
  return { hydratedAt, assets, warm };
}

/** The WebAssembly files fetched when a person moves from the dashboard to `path` by
 * following the app's own link (or, where the nav has none, a client-side navigation). */
async function moveInside(path, storageState, from = "/account") {
  const context = await browser.newContext({ storageState });
  const page = await context.newPage();
  await page.goto(`${base}${from}`);
  await hydrated(page);
  await page.waitForLoadState("networkidle");
  const fetched = [];
  page.on("request", (request) => {
    if (request.url().endsWith(".wasm")) fetched.push(new URL(request.url()).pathname);
  });
  // A link in the page to exactly this path, or one the router handles the same way.
  const moved = await page.evaluate((target) => {
    const a = document.createElement("a");
    a.href = target;
    a.textContent = "bench";
    document.body.appendChild(a);
    a.click();
    return true;
  }, path);
  if (moved) await page.waitForURL((url) => url.pathname === path.split("?")[0]);
  await page.waitForLoadState("networkidle");
  await context.close();
  return fetched.length;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const kib = (bytes) => `${(bytes / 1024).toFixed(1)}`;

const { state, slug, checkout } = await signedIn();
const pages = [
  "/sign-in", "/sign-up", "/forgot-password", "/reset-password?token=bench", "/verify-email?token=bench",
  "/account", "/account/api-keys", "/account/wallet", checkout, "/account/lab", "/account/organizations",
  `/org/${slug}`, `/org/${slug}/members`, `/org/${slug}/api-keys`, `/org/${slug}/wallet`, `/org/${slug}/subscription`, "/account/subscription", "/account/subscription/checkout/standard?interval=month", "/account/security",
  "/account/admin/promo-codes", "/account/admin/credits", "/account/admin/lab", "/account/admin/subscriptions",
];
const rows = [];
const verbose = process.env.BENCH_WEB_VERBOSE === "1";
for (const pagePath of pages) {
  const signedInPage = pagePath.startsWith("/account") || pagePath.startsWith("/org");
  const storage = signedInPage ? state : undefined;
  const times = {};
  let assets = null;
  let warm = [];
  for (const [profile, conditions] of Object.entries(PROFILES)) {
    times[profile] = [];
    for (let i = 0; i < loads; i++) {
      const result = await load(`${base}${pagePath}`, conditions, storage, profile === "fast 4G" && i < 3);
      times[profile].push(result.hydratedAt);
      if (result.warm !== undefined) warm.push(result.warm);
      assets ??= result.assets;
    }
  }
  const wasm = assets.filter((a) => new URL(a.url).pathname.endsWith(".wasm"));
  const row = {
    page: pagePath.replace(slug, ":slug").replace(/checkout\/[^/]+$/, "checkout/:order"),
    files: assets.length,
    wasmFiles: wasm.length,
    wasmKiB: kib(wasm.reduce((sum, a) => sum + a.bytes, 0)),
    totalKiB: kib(assets.reduce((sum, a) => sum + a.bytes, 0)),
    loopback: median(times.loopback).toFixed(0),
    fast4g: median(times["fast 4G"]).toFixed(0),
    fast4gAll: times["fast 4G"].map((t) => t.toFixed(0)).join(" "),
    warm: median(warm).toFixed(0),
    moveIn: signedInPage && pagePath !== "/account" ? String(await moveInside(pagePath, state)) : "",
  };
  rows.push(row);
  if (verbose) {
    for (const asset of assets) {
      console.log(`  ${kib(asset.bytes).padStart(8)} KiB  ${asset.encoding.padEnd(5)}  ${new URL(asset.url).pathname}`);
    }
  }
}

console.log(`\nCold loads (new context, empty cache), median of ${loads}; warm = second visit, cache full, fast 4G;`);
console.log("move = .wasm files fetched moving there inside the app from /account. Sizes on the wire, KiB.\n");
console.log("| page | files | wasm files | wasm KiB | all KiB | loopback ms | fast 4G ms | warm ms | move |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(`| ${r.page} | ${r.files} | ${r.wasmFiles} | ${r.wasmKiB} | ${r.totalKiB} | ${r.loopback} | ${r.fast4g} | ${r.warm} | ${r.moveIn} |`);
}
console.log("\nfast 4G loads (ms):");
for (const r of rows) console.log(`  ${r.page}: ${r.fast4gAll}`);
await browser.close();
