// Helpers for the dashboard tests: sign-in, and data made through the service's own
// HTTP API and signed widget webhooks (never by reaching into the store).
const crypto = require("node:crypto");
const { expect } = require("@playwright/test");

const API_KEY = process.env.API_KEY;
const BOT_SECRET = process.env.BOT_SECRET || "demo-bot-secret-change-me";
const auth = { Authorization: `Bearer ${API_KEY}` };

/** A string no other test run uses. */
function unique(prefix) {
  return `${prefix}${crypto.randomBytes(4).toString("hex")}`;
}

// The demo workspace's owner that `make dev` creates (README.md).
const OWNER_EMAIL = "owner@demo.example";
const OWNER_PASSWORD = process.env.OWNER_PASSWORD || "demo-owner-password";

/** Signs in as a person (the demo owner unless told otherwise), as people do. */
async function signIn(page, email = OWNER_EMAIL, password = OWNER_PASSWORD) {
  await page.goto("/login");
  await page.getByLabel("Workspace").fill("demo");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/contacts$/);
  await expect(page.getByRole("heading", { level: 1, name: "Contacts" })).toBeVisible();
}

/** Creates a contact through the JSON API; returns it. */
async function createContact(request, body) {
  const r = await request.post("/api/v1/contacts", { headers: auth, data: body });
  expect(r.status(), await r.text()).toBe(201);
  return r.json();
}

/**
 * Waits until a search for `q` lists the contact: search words are kept by the table's
 * stream consumer, seconds after a write (docs/data-model.md).
 */
async function searchable(request, q, id) {
  await expect
    .poll(async () => (await api(request, `/api/v1/contacts?q=${encodeURIComponent(q)}`)).contacts.map((c) => c.id), {
      timeout: 20_000,
    })
    .toContain(id);
}

async function getContact(request, id) {
  return request.get(`/api/v1/contacts/${id}`, { headers: auth });
}

async function api(request, path) {
  const r = await request.get(path, { headers: auth });
  expect(r.status(), await r.text()).toBe(200);
  return r.json();
}

/** Posts one website-widget event, signed with the demo bot's secret, as the widget would. */
async function widgetEvent(request, botId, event) {
  const body = JSON.stringify(event);
  const ts = Math.floor(Date.now() / 1000).toString();
  const sig = crypto.createHmac("sha256", BOT_SECRET).update(`${ts}.${body}`).digest("hex");
  const r = await request.post(`/webhooks/frame/${botId}`, {
    headers: { "Content-Type": "application/json", "X-Contacts-Timestamp": ts, "X-Contacts-Signature": `sha256=${sig}` },
    data: body,
  });
  expect(r.status(), await r.text()).toBeLessThan(300);
}

/** Waits until the capture worker has made the contact with this email; returns it. */
async function capturedContact(request, email) {
  let found;
  await expect
    .poll(async () => {
      const list = await api(request, `/api/v1/contacts?q=${encodeURIComponent(email)}`);
      found = list.contacts.find((c) => c.email === email);
      return found ? found.id : null;
    }, { timeout: 30_000 })
    .not.toBeNull();
  return found;
}

/** Saves a screenshot under tests/browser/screenshots/ (git-ignored): the whole page,
 * or only what the screen shows (`fullPage: false`, for phones). */
async function shot(page, name, { fullPage = true } = {}) {
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage });
}

/** Every visible form control has a label (or an aria-label). */
async function labelled(page) {
  const unlabelled = await page.$$eval("input:not([type=hidden]), select, textarea", (els) =>
    els.filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")).map((el) => el.outerHTML));
  expect(unlabelled).toEqual([]);
}

/** No horizontal scrolling at phone width; a screenshot of what the phone shows. */
async function fitsAPhone(page, name) {
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, "no horizontal scrolling at 390 px").toBeLessThanOrEqual(0);
  await shot(page, name, { fullPage: false });
  await page.setViewportSize({ width: 1280, height: 720 });
}

module.exports = { API_KEY, OWNER_EMAIL, unique, signIn, createContact, searchable, getContact, api, widgetEvent, capturedContact, shot, labelled, fitsAPhone };
