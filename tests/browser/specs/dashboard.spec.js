// The contacts dashboard in headless Chromium: every task of the product docs'
// contacts page, against the real service (dev binary, emulator, capture worker).
const { test, expect } = require("@playwright/test");
const { API_KEY, OWNER_EMAIL, unique, signIn, createContact, searchable, getContact, api, widgetEvent, capturedContact, shot } = require("./helpers");

const DATE_TIME = /^\d{1,2}\.\d{1,2}\.\d{4} \d{2}:\d{2}:\d{2}$/;
const rows = (page) => page.locator("table.contacts tbody tr");
const row = (page, id) => page.locator(`tr[data-contact-id="${id}"]`);

test.describe("signing in and out", () => {
  test("a wrong password or key is refused, the owner signs in, and signing out ends the session", async ({ page, context }) => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/login$/);
    await shot(page, "login");

    await page.getByLabel("Workspace").fill("demo");
    await page.getByLabel("Email").fill(OWNER_EMAIL);
    await page.getByLabel("Password").fill("not the password at all");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByRole("alert")).toHaveText(/email or password is not right/);
    await expect(page.getByLabel("Email"), "the email stays filled in").toHaveValue(OWNER_EMAIL);

    await page.getByText("Sign in with an API key instead").click();
    await page.getByLabel("API key").fill("abc_this_key_does_not_exist_000000");
    await page.getByRole("button", { name: "Sign in with the key" }).click();
    await expect(page.getByRole("alert")).toHaveText(/not valid/);
    await page.goto("/contacts");
    await expect(page).toHaveURL(/\/login$/, { message: "no session after a bad key" });

    await signIn(page);
    const cookie = (await context.cookies()).find((c) => c.name === "__Host-abc_session");
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.secure).toBe(true);
    expect(cookie.sameSite).toBe("Lax");
    expect(cookie.value).not.toContain(API_KEY);

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/contacts");
    await expect(page).toHaveURL(/\/login$/);

    // The old cookie is dead on the server too, not only forgotten by the browser.
    await context.addCookies([cookie]);
    await page.goto("/contacts");
    await expect(page).toHaveURL(/\/login$/);
  });
});

test.describe("the team", () => {
  test("the owner invites an agent, who joins, signs in as themselves and may not manage the team", async ({ page, browser }) => {
    await signIn(page);
    await page.getByRole("link", { name: "Team" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Team" })).toBeVisible();
    const email = `${unique("agent-")}@lumoco.dev`;
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Role", { exact: true }).selectOption("agent");
    await page.getByRole("button", { name: "Make an invitation link" }).click();
    const link = await page.getByLabel("The link to send").inputValue();
    expect(link).toMatch(/\/join\/demo\.[0-9a-f]{64}$/);
    await shot(page, "team");

    const other = await browser.newContext();
    const agent = await other.newPage();
    await agent.goto(link);
    await expect(agent.getByText(email)).toBeVisible();
    await agent.getByLabel("Your name").fill("Sam Agent");
    await agent.getByLabel("Choose a password").fill("short");
    await agent.getByRole("button", { name: "Join" }).click();
    const valid = await agent.getByLabel("Choose a password").evaluate((input) => input.validity.valid);
    expect(valid, "the browser holds a too-short password back").toBe(false);
    await expect(agent).toHaveURL(/\/join\//);
    await agent.getByLabel("Choose a password").fill("sam's own long password");
    await agent.getByRole("button", { name: "Join" }).click();
    await expect(agent.getByRole("status")).toHaveText(/Welcome/);
    await expect(agent.getByLabel("Email")).toHaveValue(email);
    await agent.getByLabel("Password").fill("sam's own long password");
    await agent.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(agent).toHaveURL(/\/contacts$/);
    await expect(agent.getByRole("link", { name: /Sam Agent · agent/ })).toBeVisible();
    await expect(agent.getByRole("link", { name: "Team" })).toHaveCount(0);
    const refused = await agent.goto("/team");
    expect(refused.status()).toBe(403);
    await other.close();

    await page.reload();
    const listed = page.locator("table.team tbody tr", { hasText: email });
    await expect(listed).toContainText("agent");
    await expect(listed).not.toContainText("never");
  });
});

test.describe("the contacts page", () => {
  test.beforeEach(async ({ page }) => signIn(page));

  test("shows the product's columns and times, and pages through the contacts", async ({ page }) => {
    const headers = await page.locator("table.contacts thead th").allTextContents();
    expect(headers.map((h) => h.trim().toLowerCase())).toEqual(["id", "name", "email", "phone", "channel", "created at", "actions"]);
    await expect(rows(page)).toHaveCount(25);
    for (const text of await page.locator('td[data-label="Created At"]').allTextContents()) {
      expect(text.trim()).toMatch(DATE_TIME);
    }
    await expect(page.getByRole("status").first()).toHaveText(/contacts · page 1 of \d+/);
    await shot(page, "contacts-desktop");

    const firstOnPage1 = await rows(page).first().getAttribute("data-contact-id");
    await page.getByRole("link", { name: "Next →" }).click();
    await expect(page).toHaveURL(/cursor=/);
    await expect(page.locator("#summary")).toHaveText(/page 2 of/);
    const firstOnPage2 = await rows(page).first().getAttribute("data-contact-id");
    expect(Number(firstOnPage2)).toBeLessThan(Number(firstOnPage1));
    await page.getByRole("link", { name: "← Previous" }).click();
    await expect(page.locator("#summary")).toHaveText(/page 1 of/);
    await expect(rows(page).first()).toHaveAttribute("data-contact-id", firstOnPage1);
  });

  test("filters by channel, and the filter lives in the URL", async ({ page }) => {
    await page.getByLabel("Channel").selectOption("messenger");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(page).toHaveURL(/channel=messenger/);
    const channels = await page.locator('td[data-label="Channel"]').allTextContents();
    expect(channels.length).toBeGreaterThan(0);
    expect(new Set(channels.map((c) => c.trim()))).toEqual(new Set(["messenger"]));

    await page.reload();
    await expect(page.getByLabel("Channel")).toHaveValue("messenger");
    await expect(page.locator('td[data-label="Channel"]')).toHaveCount(channels.length);
  });

  test("filters by lead score and status", async ({ page, request }) => {
    for (const [label, value] of [["Score", "cold"], ["Status", "new"]]) {
      await page.goto("/contacts");
      await page.getByLabel(label, { exact: true }).selectOption(value);
      await page.getByRole("button", { name: "Apply filters" }).click();
      await expect(page).toHaveURL(new RegExp(`${label.toLowerCase()}=${value}`));
      const ids = await rows(page).evaluateAll((trs) => trs.map((tr) => tr.dataset.contactId));
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids.slice(0, 5)) {
        const c = await (await getContact(request, id)).json();
        expect(c[label.toLowerCase()]).toBe(value);
      }
    }
  });

  test("analytics: the workspace's figures with charts", async ({ page, request }) => {
    const report = await api(request, "/api/v1/analytics");
    await page.getByRole("link", { name: "Analytics" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Analytics");
    await expect(page.locator("#total-contacts")).toHaveText(String(report.total_contacts));
    const frame = page.locator("#channels tbody tr", { hasText: "(frame)" });
    await expect(frame.locator("td.count")).toHaveText(String(report.channels.frame.count));
    await expect(page.locator("#scores tbody tr")).toHaveCount(3);
    const days = Math.round((Date.parse(report.to) - Date.parse(report.from)) / 86_400_000) + 1;
    await expect(page.locator("svg.daily rect")).toHaveCount(days);
    await shot(page, "analytics-desktop");
  });

  test("exports the current view as CSV, with progress and a download link", async ({ page, request }) => {
    const messenger = await api(request, "/api/v1/contacts?channel=messenger&per_page=100");
    expect(messenger.total).toBeGreaterThan(1);
    await page.getByLabel("Channel").selectOption("messenger");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByLabel("Export this view as").selectOption("csv");
    await page.getByRole("button", { name: "Export", exact: true }).click();
    await expect(page).toHaveURL(/\/exports\/[a-z0-9]+$/);
    await expect(page.locator("main")).toContainText("channel = messenger");
    const link = page.getByRole("link", { name: /^Download .*\.csv$/ });
    await expect(link).toBeVisible({ timeout: 30_000 });
    await expect(page.locator("#export-status")).toHaveText(new RegExp(`Ready: ${messenger.total} contacts`));
    await shot(page, "export-ready");

    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const csv = require("node:fs").readFileSync(await download.path(), "utf8").trim().split(/\r?\n/);
    expect(csv[0].toLowerCase()).toContain("email");
    expect(csv.length - 1).toBe(messenger.total);
    for (const line of csv.slice(1)) expect(line).toContain("messenger");
  });

  test("searches by name, email and phone", async ({ page, request }) => {
    const surname = unique("Quill");
    const c = await createContact(request, { channel: "telegram", name: `Zelda ${surname}`, email: `${surname.toLowerCase()}@lumoco.dev`, phone: "+1 415 555 0142" });
    for (const q of [surname.slice(0, 8), `${surname.toLowerCase()}@lumoco.dev`]) {
      await searchable(request, q, c.id);
      await page.getByLabel("Search").fill(q);
      await page.getByRole("button", { name: "Apply filters" }).click();
      await expect(page).toHaveURL(new RegExp(`q=${encodeURIComponent(q).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      await expect(rows(page)).toHaveCount(1);
      await expect(row(page, c.id)).toContainText(`Zelda ${surname}`);
    }
    await page.getByLabel("Search").fill("nobody-matches-this");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(page.getByText("No contacts match these filters.")).toBeVisible();
  });

  test("filters by date: today, and a custom range", async ({ page, request }) => {
    const c = await createContact(request, { channel: "whatsapp", name: `Today ${unique("Person")}` });
    await page.getByLabel("Date").selectOption("today");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(page).toHaveURL(/range=today/);
    await expect(row(page, c.id)).toBeVisible();
    const today = new Date().toISOString().slice(0, 10);

    await expect(page.getByLabel("From", { exact: true })).toBeHidden();
    await page.getByLabel("Date").selectOption("custom");
    await expect(page.getByLabel("From", { exact: true })).toBeVisible();
    await page.getByLabel("From", { exact: true }).fill("2001-01-01");
    await page.getByLabel("To", { exact: true }).fill("2001-12-31");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(page).toHaveURL(/range=custom&from=2001-01-01&to=2001-12-31/);
    await expect(page.getByText("No contacts match these filters.")).toBeVisible();

    await page.getByLabel("From", { exact: true }).fill(today);
    await page.getByLabel("To", { exact: true }).fill(today);
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(row(page, c.id)).toBeVisible();
    for (const text of await page.locator('td[data-label="Created At"]').allTextContents()) {
      const [d, m, y] = text.trim().split(" ")[0].split(".").map(Number);
      expect(`${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`).toBe(today);
    }
  });

  test("edits a contact from the ✏️ action", async ({ page, request }) => {
    const c = await createContact(request, { channel: "frame", name: `Edit ${unique("Me")}`, email: `${unique("edit")}@northpeak.co` });
    await searchable(request, c.email, c.id);
    await page.goto(`/contacts?q=${encodeURIComponent(c.email)}`);
    await row(page, c.id).getByRole("link", { name: `Edit ${c.name}` }).click();
    await expect(page).toHaveURL(new RegExp(`/contacts/${c.id}#edit$`));

    const form = page.locator("form.edit");
    await form.getByLabel("Email").fill("not-an-email");
    await form.getByRole("button", { name: "Save" }).click();
    await expect(form.locator(".field-error")).toContainText("not an email address");
    await expect(form.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");

    const email = `${unique("new")}@sparkwave.app`;
    await form.getByLabel("Name").fill("Harper Mitchell");
    await form.getByLabel("Email").fill(email);
    await form.getByLabel("Phone").fill("+44 20 7946 0958");
    await form.getByLabel("Status").selectOption("follow_up");
    await form.getByLabel("Tags (comma-separated)").fill("VIP, pricing");
    await form.getByLabel("Notes").fill("Asked about the Pro plan");
    await form.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("status")).toHaveText("Changes saved.");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Harper Mitchell");
    const profile = page.locator("dl.profile");
    for (const text of [email, "+44 20 7946 0958", "Follow-up needed", "vip", "pricing", "Asked about the Pro plan"]) {
      await expect(profile).toContainText(text);
    }
    const stored = await (await getContact(request, c.id)).json();
    expect(stored).toMatchObject({ name: "Harper Mitchell", email, status: "follow_up", tags: ["pricing", "vip"], notes: "Asked about the Pro plan", version: 2 });
  });

  test("deletes a contact only after a confirmation that names it and warns about its history", async ({ page, request }) => {
    const c = await createContact(request, { channel: "livechat", name: `Delete ${unique("Me")}`, email: `${unique("del")}@brightlane.io` });
    await searchable(request, c.email, c.id);
    await page.goto(`/contacts?q=${encodeURIComponent(c.email)}`);
    await row(page, c.id).getByRole("link", { name: `Delete ${c.name}` }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Delete ${c.name}?`);
    await expect(page.locator("main")).toContainText("all of their conversation history");
    await expect(page.locator("main")).toContainText("removed for good");
    await shot(page, "delete-confirmation");

    await page.getByRole("link", { name: "Cancel" }).click();
    expect((await getContact(request, c.id)).status()).toBe(200);

    await page.goto(`/contacts/${c.id}/delete`);
    await page.getByRole("button", { name: `Delete ${c.name}` }).click();
    await expect(page).toHaveURL(new RegExp(`/contacts\\?deleted=${c.id}$`));
    await expect(page.getByRole("status").first()).toContainText(`Contact ${c.id} was deleted. It can be restored for 30 days.`);
    expect((await getContact(request, c.id)).status()).toBe(404);
  });

  test("refuses forms without the session's CSRF token", async ({ page, request }) => {
    const c = await createContact(request, { channel: "frame", name: `Csrf ${unique("Target")}` });
    // Same browser, same session cookie, but a forged form: as a cross-site page would send it.
    for (const [path, form] of [
      [`/contacts/${c.id}/delete`, { csrf: "0".repeat(64), version: "1" }],
      [`/contacts/${c.id}/edit`, { version: "1", name: "Hacked" }],
    ]) {
      const r = await page.request.post(path, { form, maxRedirects: 0 });
      expect(r.status(), path).toBe(403);
    }
    const stored = await (await getContact(request, c.id)).json();
    expect(stored.name).toBe(c.name);

    const login = await page.request.post("/login", { form: { api_key: API_KEY, csrf: "f".repeat(64) }, maxRedirects: 0 });
    expect(login.status(), "sign-in without the form's token").toBe(403);
  });
});

test.describe("a contact's page", () => {
  test("shows the profile and the conversation history with its transcript", async ({ page, request }) => {
    const bots = await api(request, "/api/v1/bots");
    const botId = bots.bots[0].id;
    const visitor = unique("v_");
    const email = `${unique("lena")}@example.de`;
    const conv = unique("c_");
    const at = (s) => new Date(Date.now() - 600_000 + s * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    const base = { visitor_id: visitor, conversation_id: conv };
    await widgetEvent(request, botId, { ...base, event_id: unique("e"), type: "conversation_started", occurred_at: at(0) });
    await widgetEvent(request, botId, { ...base, event_id: unique("e"), type: "message", role: "user", text: "Do you integrate with Shopify?", occurred_at: at(5) });
    await widgetEvent(request, botId, { ...base, event_id: unique("e"), type: "message", role: "bot", text: "Yes! Shopify works out of the box.", occurred_at: at(20) });
    await widgetEvent(request, botId, { ...base, event_id: unique("e"), type: "email_collected", email, visitor: { name: "Lena Fischer" }, occurred_at: at(80) });
    const contact = await capturedContact(request, email);
    await expect.poll(async () => (await api(request, `/api/v1/contacts/${contact.id}/conversations`)).conversations[0]?.message_count, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);

    await signIn(page);
    await page.getByLabel("Search").fill(email);
    await page.getByRole("button", { name: "Apply filters" }).click();
    await row(page, contact.id).getByRole("link", { name: "Lena Fischer", exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/contacts/${contact.id}$`));
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Lena Fischer");

    const profile = page.locator("dl.profile");
    await expect(profile).toContainText(email);
    await expect(profile).toContainText("frame (Website widget)");
    for (const label of ["First contact", "Last activity"]) {
      await expect(profile.locator("dt", { hasText: label }).locator("+ dd")).toHaveText(DATE_TIME);
    }

    const conversation = page.locator("details.conversation").first();
    await expect(conversation).toHaveAttribute("open", "");
    const facts = conversation.locator("dl.facts");
    const fact = (name) => facts.locator("dt", { hasText: name }).locator("+ dd");
    await expect(fact("Channel")).toHaveText("Website widget");
    await expect(fact("Duration")).toHaveText(/^\d+ (second|minute)s?$/);
    await expect(fact("Messages")).toHaveText(/^\d+$/);
    await expect(fact("Status")).toHaveText("Open");
    const transcript = conversation.getByRole("list", { name: "Transcript" });
    await expect(transcript).toContainText("Do you integrate with Shopify?");
    await expect(transcript).toContainText("Yes! Shopify works out of the box.");
    await expect(transcript.locator("li").first()).toContainText("Visitor");
    await shot(page, "contact-desktop");

    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, "contact-phone", { fullPage: false });
    await page.setViewportSize({ width: 1280, height: 720 });

    // An active conversation blocks the delete until it is closed (product docs: troubleshooting).
    await page.getByRole("link", { name: "Delete Lena Fischer…" }).click();
    await expect(page.getByRole("alert")).toContainText("1 active conversation");
    await expect(page.getByRole("button", { name: "Delete Lena Fischer" })).toHaveCount(0);
    await page.getByRole("button", { name: "Close active conversations" }).click();
    await page.getByRole("button", { name: "Delete Lena Fischer" }).click();
    await expect(page).toHaveURL(new RegExp(`deleted=${contact.id}$`));
    expect((await getContact(request, contact.id)).status()).toBe(404);

    // The workspace keeps deleted contacts restorable for its grace period: Undo brings it back.
    await page.getByRole("button", { name: "Undo" }).click();
    await expect(page).toHaveURL(new RegExp(`/contacts/${contact.id}\\?restored=1$`));
    await expect(page.getByRole("status")).toHaveText("Contact restored.");
    await expect(page.locator("details.conversation").first().locator("dl.facts")).toContainText("Closed");
    await expect(page.getByRole("list", { name: "Transcript" }).first()).toContainText("Do you integrate with Shopify?");
  });

  test("notes: added and deleted on the contact page, signed with the person's name", async ({ page, request }) => {
    const c = await createContact(request, { channel: "messenger", name: `Notes ${unique("Person")}` });
    await signIn(page);
    await page.goto(`/contacts/${c.id}`);
    await expect(page.locator("section#notes")).toContainText("No notes yet.");
    await page.getByLabel("New note").fill("Called back: wants an enterprise demo next week.");
    await page.getByRole("button", { name: "Add note" }).click();
    await expect(page.getByRole("status")).toHaveText("Note added.");
    const note = page.locator("#notes li.note");
    await expect(note).toHaveCount(1);
    await expect(note).toContainText("Called back: wants an enterprise demo next week.");
    await expect(note.locator(".meta")).toContainText(OWNER_EMAIL);
    await expect(note.locator("time")).toHaveText(DATE_TIME);
    const stored = await api(request, `/api/v1/contacts/${c.id}/notes`);
    expect(stored.notes.map((n) => n.text)).toEqual(["Called back: wants an enterprise demo next week."]);

    await page.getByRole("button", { name: "Add note" }).click();
    await expect(page.locator("#notes .field-error")).toBeVisible();
    await note.getByRole("button", { name: /Delete the note/ }).click();
    await expect(page.getByRole("status")).toHaveText("Note deleted.");
    await expect(page.locator("section#notes")).toContainText("No notes yet.");
  });

  test("suggests a duplicate and merges it after a preview", async ({ page, request }) => {
    const name = `Mason ${unique("Clark")}`;
    const keep = await createContact(request, { channel: "frame", name, email: `${unique("mason")}@northpeak.co`, tags: ["pricing"] });
    const dup = await createContact(request, { channel: "telegram", name, phone: "+1 415 555 0199", tags: ["vip"] });
    await signIn(page);
    await page.goto(`/contacts/${keep.id}`);
    const suggestion = page.locator("#duplicates li", { hasText: `contact ${dup.id}` });
    await expect(suggestion).toContainText("same name on telegram");
    await suggestion.getByRole("link", { name: "Review merge…" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Merge ${name} into ${name}`);
    const result = (field) => page.locator("table.merge tr", { has: page.locator("th", { hasText: new RegExp(`^${field}$`) }) }).locator('td[data-label="Result"]');
    await expect(result("phone")).toHaveText("+1 415 555 0199");
    await expect(result("email")).toHaveText(keep.email);
    await expect(result("tags")).toHaveText("pricing, vip");
    await shot(page, "merge-preview");

    await page.getByRole("button", { name: "Merge contacts" }).click();
    await expect(page).toHaveURL(new RegExp(`/contacts/${keep.id}\\?merged=${dup.id}$`));
    await expect(page.getByRole("status")).toHaveText("The contacts were merged into this one.");
    await expect(page.locator("dl.profile")).toContainText("+1 415 555 0199");
    expect((await getContact(request, dup.id)).status()).toBe(404);
    await page.goto(`/contacts/${dup.id}`);
    await expect(page.getByRole("alert")).toHaveText(`contact ${dup.id} was merged into contact ${keep.id}`);
  });

  test("every form control has a label, and the keyboard reaches the content first", async ({ page, request }) => {
    const c = await createContact(request, { channel: "frame", name: `Keys ${unique("Board")}` });
    await signIn(page);
    for (const path of ["/contacts", `/contacts/${c.id}`, `/contacts/${c.id}/delete`, "/analytics"]) {
      await page.goto(path);
      const unlabelled = await page.$$eval("input:not([type=hidden]), select, textarea", (els) =>
        els.filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")).map((el) => el.outerHTML));
      expect(unlabelled, path).toEqual([]);
    }
    await page.goto("/contacts");
    await page.keyboard.press("Tab");
    await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab");
    await expect(page.getByLabel("Search")).toBeFocused();
  });

  test("GDPR: downloads everything held about a person, then erases them", async ({ page, request }) => {
    await signIn(page);
    const c = await createContact(request, { channel: "frame", name: `Gdpr ${unique("Person")}`, email: `${unique("gdpr")}@sunhub.com.au`, consent: "granted" });
    await page.goto(`/contacts/${c.id}`);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download their data (JSON)" }).click()]);
    expect(download.suggestedFilename()).toBe(`contact-${c.id}-data.json`);
    const doc = JSON.parse(require("node:fs").readFileSync(await download.path(), "utf8"));
    expect(doc.contact.email).toBe(c.email);
    expect(doc.contact.consent.status).toBe("granted");

    await page.getByRole("link", { name: `Erase ${c.name}…` }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Erase ${c.name}?`);
    await expect(page.locator("main")).toContainText("no grace period and no undo");
    await page.getByRole("button", { name: `Erase ${c.name}` }).click();
    await expect(page).toHaveURL(new RegExp(`/contacts\\?erased=${c.id}&receipt=er`));
    expect((await getContact(request, c.id)).status()).toBe(404);
  });

  test("the pages work at phone width", async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await signIn(page);
    await expect(rows(page).first()).toBeVisible();
    // Each cell carries its column's name, shown as a label when the table stacks.
    await expect(rows(page).first().locator('td[data-label="Created At"]')).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, "no horizontal scrolling at 390 px").toBeLessThanOrEqual(0);
    await shot(page, "contacts-phone", { fullPage: false });
  });
});
