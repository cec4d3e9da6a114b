// The two checks `make bench` runs after the charge benchmark (see BENCHMARKS.md).
//
//   node charges.mjs race BASE TOKEN KEY ATTEMPTS CONCURRENCY
//     CONCURRENCY loops share ATTEMPTS charges of 1 credit against one key's wallet;
//     prints how many were charged and how many refused for insufficient credits.
//   node charges.mjs record BASE TOKEN KEYS_FILE CONCURRENCY OUT_FILE
//     charges 1 credit across the keys until the server stops answering (it is killed
//     with -9 meanwhile), and writes the charge_id of every charge answered valid.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";

const [mode, base, token, ...rest] = process.argv.slice(2);
const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };

async function charge(key) {
  const response = await fetch(`${base}/api/v1/verify`, {
    method: "POST",
    headers,
    body: JSON.stringify({ key, cost: 1, description: "bench" }),
  });
  return { status: response.status, body: await response.json() };
}

if (mode === "race") {
  const [key, attempts, concurrency] = [rest[0], Number(rest[1]), Number(rest[2])];
  let next = 0;
  const counts = { charged: 0, insufficient: 0, other: 0 };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < attempts) {
        next++;
        const { status, body } = await charge(key);
        if (status === 200 && body.valid) counts.charged++;
        else if (status === 200 && body.reason === "insufficient_credits") counts.insufficient++;
        else counts.other++;
      }
    }),
  );
  console.log(JSON.stringify(counts));
} else if (mode === "record") {
  const [keysFile, concurrency, out] = [rest[0], Number(rest[1]), rest[2]];
  const keys = readFileSync(keysFile, "utf8").split("\n").filter(Boolean);
  writeFileSync(out, "");
  let answered = 0;
  let stopped = false;
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stopped) {
        const key = keys[i++ % keys.length];
        try {
          const { status, body } = await charge(key);
          if (status === 200 && body.valid) {
            // Written before the next request: an id here was answered valid.
            appendFileSync(out, `${body.charge_id}\n`);
            answered++;
          }
        } catch {
          stopped = true; // the server is gone
        }
      }
    }),
  );
  console.log(JSON.stringify({ answered_valid: answered }));
} else {
  console.error("usage: charges.mjs race|record ...");
  process.exit(2);
}
