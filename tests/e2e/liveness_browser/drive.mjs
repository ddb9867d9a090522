// Opens the page in headless chromium with a fake camera playing a y4m file, waits for the
// FaceLivenessDetector to finish, prints one JSON line: how it ended, the event-stream events the
// browser received and its console. Usage: node drive.mjs <chromium> <page url> <clip.y4m> <seconds>
import puppeteer from 'puppeteer-core';

const [executablePath, url, clip, seconds] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath,
  headless: true,
  acceptInsecureCerts: true,
  args: ['--no-sandbox', '--ignore-certificate-errors', '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${clip}`],
});
const result = { done: null, received: [], sent: 0, console: [] };
try {
  const page = await browser.newPage();
  page.on('console', (m) => result.console.push(m.text().slice(0, 500)));
  page.on('pageerror', (e) => result.console.push(`pageerror ${String(e).slice(0, 500)}`));
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketFrameSent', () => { result.sent += 1; });
  cdp.on('Network.webSocketFrameReceived', (e) => {
    // Event-stream headers are plain text inside the binary frame: enough to name the event.
    const text = Buffer.from(e.response.payloadData, 'base64').toString('latin1');
    result.received.push((text.match(/[A-Za-z]+(Event|Exception)/) || ['?'])[0]);
  });
  await page.goto(url);
  const deadline = Date.now() + Number(seconds) * 1000;
  while (!result.done && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    result.done = await page.evaluate(() => window.__lv.done);
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
