/**
 * Keyboard shortcut tests shared by the window-level handler (App.vue) and the views, so
 * every handler agrees on what "undo" is and when the user is typing.
 */

/** Ctrl+Z (Cmd+Z on macOS), without Shift or Alt (Ctrl+Shift+Z is redo where there is one). */
export function isUndoKey(e: KeyboardEvent): boolean {
  return (e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 'z';
}

/** True while focus is in a text field: its own undo applies there. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'range', 'button', 'submit'].includes(target.type);
}
