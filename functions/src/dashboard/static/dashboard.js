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
