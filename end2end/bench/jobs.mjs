// Bench (e) of `make bench` and its checks (see BENCHMARKS.md): jobs with holds.
//
//   node jobs.mjs load BASE TOKEN KEYS_FILE CONCURRENCY SECONDS
//     CONCURRENCY loops each submit a job (estimated cost 10) for the next funded key and
//     complete it with a final cost; prints jobs/s and the p50/p99 of each step.
//   node jobs.mjs race BASE TOKEN KEY CONCURRENCY
//     CONCURRENCY loops submit holds of 10 against one wallet until it refuses them; then
//     completes every job made with a random final cost of 0 to 10. Prints the holds
//     made and refused and the sum of the final costs.
//   node jobs.mjs record BASE TOKEN KEYS_FILE CONCURRENCY OUT_FILE
//     submits and completes jobs until the server stops answering (it is killed with -9
//     meanwhile); writes "held ID" for each hold answered 201 and "settled ID COST" for
//     each completion answered 200.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";

const [mode, base, token, ...rest] = process.argv.slice(2);
const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };

async function submit(key, cost = 10) {
  const response = await fetch(`${base}/api/v1/jobs`, {
    method: "POST",
    headers,
    body: JSON.stringify({ key, device: "bench-sim", estimated_cost: cost, idempotency_key: randomUUID() }),
  });
  return { status: response.status, body: await response.json() };
}

async function complete(id, finalCost) {
  const response = await fetch(`${base}/api/v1/jobs/${id}`, {
    method: "PATCH",
    headers,
    body: JSON.stringify({ status: "completed", final_cost: finalCost }),
  });
  return { status: response.status, body: await response.json() };
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

if (mode === "load") {
  const [keysFile, concurrency, seconds] = [rest[0], Number(rest[1]), Number(rest[2])];
  const keys = readFileSync(keysFile, "utf8").split("\n").filter(Boolean);
  const submitMs = [];
  const completeMs = [];
  let done = 0;
  let failed = 0;
  let i = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const key = keys[i++ % keys.length];
        let t = performance.now();
        const made = await submit(key);
        submitMs.push(performance.now() - t);
        if (made.status !== 201) { failed++; continue; }
        t = performance.now();
        const settled = await complete(made.body.job.id, 1 + (i % 10));
        completeMs.push(performance.now() - t);
        if (settled.status === 200) done++; else failed++;
      }
    }),
  );
  submitMs.sort((a, b) => a - b);
  completeMs.sort((a, b) => a - b);
  const ms = (v) => `${v.toFixed(2)}ms`;
  console.log(JSON.stringify({
    jobs_per_s: Math.round(done / seconds),
    failed,
    submit_p50: ms(percentile(submitMs, 50)), submit_p99: ms(percentile(submitMs, 99)),
    complete_p50: ms(percentile(completeMs, 50)), complete_p99: ms(percentile(completeMs, 99)),
  }));
} else if (mode === "race") {
  const [key, concurrency] = [rest[0], Number(rest[1])];
  const made = [];
  let refused = 0;
  let other = 0;
  let exhausted = false;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!exhausted) {
        const { status, body } = await submit(key);
        if (status === 201) made.push(body.job.id);
        else if (status === 402 && body.error?.code === "insufficient_credits") {
          refused++;
          if (body.error.available < 10) exhausted = true;
        } else other++;
      }
    }),
  );
  // One more round of refusals from every connection proves nothing is left.
  await Promise.all(Array.from({ length: concurrency }, async () => {
    const { status } = await submit(key);
    if (status === 402) refused++; else if (status === 201) other++;
  }));
  let finalSum = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < made.length) {
        const id = made[next++];
        const cost = Math.floor(Math.random() * 11);
        const { status } = await complete(id, cost);
        if (status === 200) finalSum += cost; else other++;
      }
    }),
  );
  console.log(JSON.stringify({ holds: made.length, refused, other, final_cost_sum: finalSum }));
} else if (mode === "record") {
  const [keysFile, concurrency, out] = [rest[0], Number(rest[1]), rest[2]];
  const keys = readFileSync(keysFile, "utf8").split("\n").filter(Boolean);
  writeFileSync(out, "");
  let held = 0;
  let settled = 0;
  let stopped = false;
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stopped) {
        const key = keys[i++ % keys.length];
        try {
          const made = await submit(key);
          if (made.status !== 201) continue;
          appendFileSync(out, `held ${made.body.job.id}\n`);
          held++;
          const cost = 1 + (i % 10);
          const done = await complete(made.body.job.id, cost);
          if (done.status === 200) {
            appendFileSync(out, `settled ${made.body.job.id} ${cost}\n`);
            settled++;
          }
        } catch {
          stopped = true; // the server is gone
        }
      }
    }),
  );
  console.log(JSON.stringify({ held, settled }));
} else {
  console.error("usage: jobs.mjs load|race|record ...");
  process.exit(2);
}
