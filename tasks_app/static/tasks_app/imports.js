// The draft page's bulk bar: 全选本页 and the count of the rows ticked. The page works without it.
(function () {
  const form = document.getElementById("bulk");
  if (!form) return;
  const boxes = Array.from(document.querySelectorAll('input[type=checkbox][form="bulk"]'));
  const all = document.getElementById("select-all");
  const count = document.getElementById("selected-count");
  function update() {
    const ticked = boxes.filter((box) => box.checked).length;
    count.textContent = ticked ? "已选 " + ticked + " 项" : "";
    all.checked = ticked > 0 && ticked === boxes.length;
  }
  all.addEventListener("change", () => {
    boxes.forEach((box) => { box.checked = all.checked; });
    update();
  });
  boxes.forEach((box) => box.addEventListener("change", update));
  update();
})();
