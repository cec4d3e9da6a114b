// `make bench-web`: what a first visit costs. For each page, on loopback and on a "fast
// 4G" profile (9 Mbit/s down, 40 ms latency, by Chrome DevTools Protocol emulation):
// the bytes each asset took on the wire (compressed) and the median time from navigation
// to hydration (`html[data-hydrated]`) over cold loads (a new browser context each, so
// an empty cache). Usage: node web-load.mjs BASE_URL [LOADS]
import { chromium } from "@playwright/test";

const base = process.argv[2] ?? "http://127.0.0.1:3300";
const loads = Number(process.argv[3] ?? 5);
const PROFILES = {
  loopback: null,
  "fast 4G": { offline: false, latency: 40, downloadThroughput: (9_000_000 / 8), uploadThroughput: (9_000_000 / 8) },
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});

// A signed-in person with a few keys, for the account page.
async function signedInState() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/sign-up`);
  await page.locator("html[data-hydrated]").waitFor();
  await page.getByLabel("Email").fill(`bench-${Date.now()}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill("correct horse battery staple");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.waitForURL(/\/account$/);
  await page.goto(`${base}/account/api-keys`);
  await page.locator("html[data-hydrated]").waitFor();
  for (const name of ["ci-runner", "analytics-export", "staging-deploy"]) {
    await page.getByRole("button", { name: "Create API Key" }).click();
    const dialog = page.getByRole("dialog", { name: "Create API key" });
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByRole("button", { name: "Create key" }).click();
    await page.getByRole("dialog", { name: "Your new API key" }).getByRole("button", { name: "Done" }).click();
    await page.getByRole("button", { name, exact: true }).waitFor();
  }
  const state = await context.storageState();
  await context.close();
  return state;
}

/** One cold load: hydration time (ms since navigation start) and bytes per asset. */
async function coldLoad(path, conditions, storageState) {
  const context = await browser.newContext({ storageState });
  // Records the moment the app marks itself hydrated, from inside the page.
  // (The script runs before <html> exists, so it watches the whole document.)
  await context.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.documentElement?.hasAttribute("data-hydrated")) {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, attributeFilter: ["data-hydrated"], subtree: true });
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  if (conditions) await cdp.send("Network.emulateNetworkConditions", conditions);
  const requests = new Map();
  cdp.on("Network.responseReceived", ({ requestId, response }) => {
    requests.set(requestId, { url: response.url, encoding: response.headers["content-encoding"] ?? response.headers["Content-Encoding"] ?? "none", bytes: 0 });
  });
  cdp.on("Network.loadingFinished", ({ requestId, encodedDataLength }) => {
    const request = requests.get(requestId);
    if (request) request.bytes = encodedDataLength;
  });
  await page.goto(`${base}${path}`);
  await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 60_000 });
  const hydratedAt = await page.evaluate(() => window.__hydratedAt);
  await page.waitForLoadState("networkidle");
  await context.close();
  return { hydratedAt, assets: [...requests.values()] };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

const state = await signedInState();
for (const path of ["/sign-in", "/account/api-keys"]) {
  console.log(`\n## ${path}`);
  let assets = null;
  for (const [profile, conditions] of Object.entries(PROFILES)) {
    const times = [];
    for (let i = 0; i < loads; i++) {
      const result = await coldLoad(path, conditions, path.startsWith("/account") ? state : undefined);
      times.push(result.hydratedAt);
      assets ??= result.assets;
    }
    console.log(`hydrated (${profile}): median ${median(times).toFixed(0)} ms over ${loads} cold loads [${times.map((t) => t.toFixed(0)).join(", ")}]`);
  }
  console.log("bytes on the wire (first cold load, loopback), with headers:");
  let total = 0;
  for (const asset of assets) {
    const url = new URL(asset.url);
    total += asset.bytes;
    console.log(`  ${kib(asset.bytes).padStart(10)}  ${asset.encoding.padEnd(5)}  ${url.pathname}${url.search}`);
  }
  const wasm = assets.filter((a) => a.url.endsWith(".wasm")).reduce((sum, a) => sum + a.bytes, 0);
  console.log(`  ${kib(total).padStart(10)}  total; wasm ${kib(wasm)}`);
}
await browser.close();
