"""Editing before saving: form drafts and their validation, recovery copies of unsaved edits,
and what to do when a file changed on disk since it was opened. Both editor screens use it."""
