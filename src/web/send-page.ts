import type { Response } from "express";
import { PAGE_STYLE } from "./pages/layout.js";

/** The web view's pages: the stylesheet from this site only, no scripts, forms posting only here, no framing. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Sends a page of the web view, kept out of caches and Referer headers and never framed. */
export function sendPage(res: Response, status: number, page: string): void {
  res
    .status(status)
    .set({
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
      "Content-Security-Policy": CONTENT_SECURITY_POLICY,
      "Referrer-Policy": "same-origin",
      "X-Frame-Options": "DENY",
    })
    .type("text/html; charset=utf-8")
    .send(page);
}

/** Sends the web view's stylesheet. */
export function sendStyle(res: Response): void {
  res
    .set({ "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff" })
    .type("text/css")
    .send(PAGE_STYLE);
}
