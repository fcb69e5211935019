// Drives the official @humanlayer/sdk@0.7.9, unchanged, against hl-email's API.
// Configuration comes the way a migrating user sets it: HUMANLAYER_API_BASE + HUMANLAYER_API_KEY.
// Prints one JSON line per finished step on stdout; the Python test plays the human by email.
'use strict';

const { humanlayer } = require('@humanlayer/sdk');

const address = process.env.HL_TEST_ADDRESS;
const fastSleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 100)));

function report(step, result) {
  process.stdout.write(JSON.stringify({ step, result }) + '\n');
}

async function main() {
  const contactChannel = { email: { address } };

  // 1. requireApproval, approved, with the SDK's own 3 s polling (no changes at all).
  const hl = humanlayer({ runId: 'node-agent', contactChannel });
  const sendRefund = hl.requireApproval()(async function send_refund(kwargs) {
    return `refunded ${kwargs.amount} on ${kwargs.order}`;
  });
  report('approve', await sendRefund({ order: 'N-1', amount: 42 }));

  // 2. requireApproval, rejected (the SDK's `sleep` option shortened to keep the test quick).
  const fast = humanlayer({ runId: 'node-agent', contactChannel, sleep: fastSleep });
  const wire = fast.requireApproval()(async function wire_money(kwargs) {
    return `wired ${kwargs.usd}`;
  });
  report('reject', await wire({ usd: 9000 }));

  // 3. humanAsTool.
  const ask = fast.humanAsTool();
  report('question', await ask({ message: 'Node asks: which region should we deploy to?' }));

  // 4. Plain store calls: get + escalate on an existing call.
  const call = await fast.createFunctionCall({ spec: { fn: 'noop', kwargs: { x: 1 } } });
  const got = await fast.getFunctionCall(call.call_id);
  const escalated = await fast.escalateEmailFunctionCall(call.call_id, { escalation_msg: 'Node escalation' });
  report('store', { created: call.call_id, got: got.call_id, fn: got.spec.fn, escalated: escalated.call_id });
}

main().catch((err) => {
  process.stderr.write(String((err && err.stack) || err) + '\n');
  process.exit(1);
});
