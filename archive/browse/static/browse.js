// newsarchive browse: link each repair's highlight in one column to the same repair in the other.
// Hovering or focusing a highlight outlines its counterpart and scrolls it into view in its own column,
// and its explanation is placed beside it in the window (the columns scroll, and would clip it).
// Without this script the explanations still show on hover and focus, through CSS alone.
"use strict";

const narrow = window.matchMedia("(max-width: 760px)");

function placeTip(mark) {
  const tip = mark.querySelector(":scope > .tip");
  if (!tip || narrow.matches) return;
  tip.style.position = "fixed";
  const margin = 8;
  const anchor = mark.getClientRects()[0] || mark.getBoundingClientRect();
  const size = tip.getBoundingClientRect();
  const left = Math.max(margin, Math.min(anchor.left, window.innerWidth - size.width - margin));
  const below = anchor.bottom + 4;
  const top = below + size.height + margin > window.innerHeight ? anchor.top - size.height - 4 : below;
  tip.style.left = `${left}px`;
  tip.style.top = `${Math.max(margin, top)}px`;
  tip.style.right = "auto";
}

function counterparts(mark) {
  const number = mark.dataset.repair;
  return document.querySelectorAll(`mark.repair[data-repair="${number}"]`);
}

function revealInColumn(element) {
  const box = element.closest(".column-body");
  if (!box || box.scrollHeight <= box.clientHeight) return;
  const shown = box.getBoundingClientRect();
  const where = element.getBoundingClientRect();
  if (where.top < shown.top || where.bottom > shown.bottom) {
    box.scrollTop += where.top - shown.top - shown.height / 3;
  }
}

function link(event) {
  const mark = event.target.closest("mark.repair[data-repair]");
  if (!mark) return;
  requestAnimationFrame(() => placeTip(mark));
  for (const other of counterparts(mark)) {
    other.classList.add("linked");
    if (other.closest(".column") !== mark.closest(".column")) revealInColumn(other);
  }
}

function unlink(event) {
  const mark = event.target.closest("mark.repair[data-repair]");
  if (!mark) return;
  mark.querySelector(":scope > .tip")?.removeAttribute("style");
  for (const other of counterparts(mark)) other.classList.remove("linked");
}

document.addEventListener("mouseover", link);
document.addEventListener("mouseout", unlink);
document.addEventListener("focusin", link);
document.addEventListener("focusout", unlink);
document.addEventListener("keydown", (event) => {
  // Escape leaves a highlight, so that its explanation does not cover the text.
  if (event.key === "Escape" && document.activeElement?.matches("mark.repair")) document.activeElement.blur();
});
