// The department field of a role form matters only for a department liaison: shown then,
// hidden otherwise (without script it stays, with its help text saying so).
document.addEventListener("DOMContentLoaded", () => {
  for (const role of document.querySelectorAll("select[name$='role']")) {
    const form = role.closest("form");
    const dept = form && form.querySelector("select[name$='department']");
    const field = dept && dept.closest(".field");
    if (!field) continue;
    const sync = () => { field.hidden = role.value !== "liaison"; };
    role.addEventListener("change", sync);
    sync();
  }
});
