// Slack's Bolt for JavaScript in Socket Mode, doing what a Bolt app does at the least:
// one listener per kind of envelope that acks it. `loadgen burst --peer bolt` starts it
// against the emulator and measures its acks as it measures Runbook's.
//
// Environment: SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_API_URL (the emulator's Web API
// base, ending in /api/). Bolt's WebClient is pointed at it for auth.test, and the
// Socket Mode client's for apps.connections.open, whose answer names the emulator's
// websocket.
'use strict';

const { App, LogLevel } = require('@slack/bolt');

const slackApiUrl = process.env.SLACK_API_URL;
if (!slackApiUrl || !process.env.SLACK_BOT_TOKEN || !process.env.SLACK_APP_TOKEN) {
  console.error('bolt peer: set SLACK_BOT_TOKEN, SLACK_APP_TOKEN and SLACK_API_URL');
  process.exit(2);
}

const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  appToken: process.env.SLACK_APP_TOKEN,
  socketMode: true,
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl },
  installerOptions: { clientOptions: { slackApiUrl } },
});

app.command(/.*/, async ({ ack }) => { await ack(); });
app.action(/.*/, async ({ ack }) => { await ack(); });
app.event(/.*/, async () => {}); // Bolt acks events before their listeners run

async function main() {
  await app.start();
  console.error('bolt peer: connected');
}

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    app.stop().finally(() => process.exit(0));
  });
}

main().catch((err) => {
  console.error('bolt peer:', err.message);
  process.exit(1);
});
