import { defineConfig, devices } from "@playwright/test";
import * as path from "node:path";

// The server under test: the release binary `scripts/release-build.sh` produced (split
// wasm, precompressed, hashed names), on a fresh SQLite file.
const port = process.env.E2E_PORT ?? "3100";
const baseURL = `http://127.0.0.1:${port}`;
const root = path.resolve(__dirname, "..");
const profile = process.env.E2E_PROFILE ?? "release";
// A real SMTP server (npm maildev) on loopback; tests read mail through its REST API.
export const smtpPort = process.env.E2E_SMTP_PORT ?? "1125";
export const mailApiPort = process.env.E2E_MAIL_API_PORT ?? "1180";
// The operator's services present this to /api/v1/verify (charges) and refunds.
export const serviceToken = "e2e-service-token-0123456789abcdef0123";
// Card payments go to localstripe (PyPI), a Stripe-compatible server on loopback that
// also serves the stand-in for Stripe.js; `make test` starts it (scripts/test.sh).
export const localstripeURL = process.env.TEST_LOCALSTRIPE_URL ?? "http://127.0.0.1:8420";
export const stripeWebhookSecret = "whsec_e2e_0123456789abcdef";
export const keywardURL = baseURL;
// The JupyterHub `make test` starts (scripts/test-hub.sh) signs people in through this
// Keyward; without it (Playwright run alone) Lab is simply not set up.
const hubURL = process.env.TEST_JUPYTERHUB_URL;
const hubEnv: Record<string, string> = hubURL
  ? {
      KEYWARD_JUPYTERHUB_URL: hubURL,
      KEYWARD_JUPYTERHUB_API_TOKEN: process.env.TEST_JUPYTERHUB_API_TOKEN ?? "",
      KEYWARD_OAUTH_CLIENT_ID: "jupyterhub",
      KEYWARD_OAUTH_CLIENT_SECRET: process.env.KEYWARD_HUB_CLIENT_SECRET ?? "",
      KEYWARD_OAUTH_REDIRECT_URI: `${hubURL}/hub/oauth_callback`,
    }
  : {};

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    permissions: ["clipboard-read", "clipboard-write"],
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium", use: { ...devices["Desktop Chrome"], viewport: { width: 1280, height: 800 } } }],
  webServer: [
    {
      // Already running under `make test`; started here when Playwright runs alone.
      command: `.venv/bin/localstripe --port ${new URL(localstripeURL).port} --from-scratch`,
      cwd: root,
      url: `${localstripeURL}/js.stripe.com/v3/`,
      timeout: 30_000,
      reuseExistingServer: true,
    },
    {
      command: `npx maildev --smtp ${smtpPort} --ip 127.0.0.1 --web ${mailApiPort} --web-ip 127.0.0.1 --silent`,
      url: `http://127.0.0.1:${mailApiPort}/api/healthz`,
      timeout: 30_000,
      reuseExistingServer: false,
    },
    {
    command: `rm -f target/e2e.db target/e2e.db-wal target/e2e.db-shm && exec target/${profile}/keyward`,
    cwd: root,
    url: `${baseURL}/sign-in`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      DATABASE_URL: "sqlite://target/e2e.db",
      KEYWARD_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: "target/site",
      LEPTOS_OUTPUT_NAME: "keyward",
      LEPTOS_ENV: "PROD",
      RUST_LOG: "keyward=info,warn",
      // Every test signs up a fresh user from 127.0.0.1.
      KEYWARD_SIGN_UPS_PER_HOUR: "10000",
      KEYWARD_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      KEYWARD_SERVICE_TOKEN: serviceToken,
      KEYWARD_STRIPE_SECRET_KEY: "sk_test_e2e",
      KEYWARD_STRIPE_PUBLISHABLE_KEY: "pk_test_e2e",
      KEYWARD_STRIPE_WEBHOOK_SECRET: stripeWebhookSecret,
      KEYWARD_STRIPE_API_BASE: localstripeURL,
      KEYWARD_STRIPE_JS_URL: `${localstripeURL}/js.stripe.com/v3/`,
      ...hubEnv,
    },
    },
  ],
});
