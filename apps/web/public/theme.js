// Applies the theme chosen last time before the first paint, so a dark page never flashes light.
try {
  var theme = localStorage.getItem('proctrail-theme');
  if (theme === 'dark' || theme === 'light') document.documentElement.dataset.theme = theme;
} catch {
  // Storage can be disabled; the system preference applies then.
}
