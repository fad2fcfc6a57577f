// Drives Debian's Chromium (/usr/bin/chromium), headless, against the service that
// scripts/browser-test.sh starts (BASE_URL). No browser is downloaded.
const { defineConfig } = require("@playwright/test");

module.exports = defineConfig({
  testDir: "./specs",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // The tests share one workspace; each makes its own contacts, and one worker keeps
  // the two cores for the service and the emulator.
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: process.env.BASE_URL,
    headless: true,
    screenshot: "only-on-failure",
    trace: "off",
    launchOptions: {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      // The machine has no network: keep Chromium from calling home.
      args: ["--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-gpu"],
    },
  },
});
