// 全选: a box marked data-pick-all="NAME" ticks or clears every box named NAME on the page.
// Nothing else on these pages needs script; without it each box is ticked by hand.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-pick-all]").forEach((all) => {
    all.addEventListener("change", () => {
      document.querySelectorAll(`input[type=checkbox][name="${all.dataset.pickAll}"]`)
        .forEach((box) => { box.checked = all.checked; });
    });
  });
});
