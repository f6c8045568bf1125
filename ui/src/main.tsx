import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { api } from "./api";
import { App } from "./App";
import "./styles.css";

// Errors outside React's rendering go to the app's log too.
window.addEventListener("error", (e) => api.uiError(`${e.message} at ${e.filename}:${e.lineno}`).catch(() => {}));
window.addEventListener("unhandledrejection", (e) => api.uiError(`unhandled rejection: ${String(e.reason?.message ?? e.reason)}`).catch(() => {}));

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
