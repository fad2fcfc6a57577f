// Progressive enhancement only: every page works without this script.
// Shows the custom date range's From/To fields only while "Custom range" is chosen, and
// the add-integration form's fields of the chosen kind only.
document.addEventListener("DOMContentLoaded", () => {
  const range = document.querySelector("select[data-custom-range]");
  const custom = document.getElementById("custom-range");
  if (!range || !custom) return;
  const sync = () => {
    custom.hidden = range.value !== "custom";
    if (custom.hidden) custom.querySelectorAll("input").forEach((i) => { i.value = ""; });
  };
  range.addEventListener("change", () => {
    sync();
    if (!custom.hidden) custom.querySelector("input").focus();
  });
  sync();
});

// The other kinds' fieldsets are disabled as well as hidden, so the form sends only the chosen kind's fields.
document.addEventListener("DOMContentLoaded", () => {
  const kind = document.querySelector("select[data-integration-kind]");
  if (!kind) return;
  const sync = () => {
    document.querySelectorAll("fieldset[data-kind]").forEach((f) => {
      f.hidden = f.dataset.kind !== kind.value;
      f.disabled = f.hidden;
    });
  };
  kind.addEventListener("change", sync);
  sync();
});

// Bulk actions: a "select all on this page" box in the table's header, and only the field
// the chosen action takes (tag or status). Without the script every row has its own box
// and both fields show, labelled with the actions they serve.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("bulk");
  if (!form) return;
  const rows = [...form.querySelectorAll('tbody input[type="checkbox"][name="id"]')];
  const header = form.querySelector("thead th");
  if (header && rows.length) {
    const all = document.createElement("input");
    all.type = "checkbox";
    all.id = "bulk-page";
    all.setAttribute("aria-label", "Select all contacts on this page");
    const sync = () => {
      const n = rows.filter((r) => r.checked).length;
      all.checked = n === rows.length;
      all.indeterminate = n > 0 && n < rows.length;
    };
    all.addEventListener("change", () => rows.forEach((r) => { r.checked = all.checked; }));
    rows.forEach((r) => r.addEventListener("change", sync));
    header.prepend(all, " ");
    sync();
  }
  const action = form.querySelector("#bulk-action");
  const fields = { tag: form.querySelector("#bulk-tag"), status: form.querySelector("#bulk-status") };
  const show = () => {
    const wanted = { tag: "tag", untag: "tag", set_status: "status" }[action.value];
    for (const [name, input] of Object.entries(fields)) {
      input.closest(".field").hidden = name !== wanted;
    }
  };
  action.addEventListener("change", show);
  show();
});
