// 全选本页: ticks or clears every row's box of the list it heads. Nothing else needs script.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-pick-all], #pick-all").forEach((all) => {
    const table = all.closest("table, form");
    all.addEventListener("change", () => {
      table.querySelectorAll("input[type=checkbox][name=task], input[type=checkbox][name=update]")
        .forEach((box) => { box.checked = all.checked; });
    });
  });
});
