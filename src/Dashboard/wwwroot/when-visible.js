// Tells .NET once an element enters the viewport, then stops watching: a plot that costs seconds to
// set up (WebGL without a GPU) is drawn when a person scrolls to it, not while the page opens.
export function whenVisible(element, target) {
  const observer = new IntersectionObserver(entries => {
    if (entries.some(entry => entry.isIntersecting)) {
      observer.disconnect();
      target.invokeMethodAsync('Show');
    }
  });
  observer.observe(element);
  return { stop: () => observer.disconnect() };
}
