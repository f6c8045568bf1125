import { invoke } from "@tauri-apps/api/core";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import "./styles.css";

// Errors outside React's rendering go to the app's log too.
window.addEventListener("error", (e) => invoke("ui_error", { message: `${e.message} at ${e.filename}:${e.lineno}` }).catch(() => {}));
window.addEventListener("unhandledrejection", (e) => invoke("ui_error", { message: `unhandled rejection: ${String(e.reason?.message ?? e.reason)}` }).catch(() => {}));

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
