import express, { type Router } from "express";
import type { PlanStore } from "../plan/plan-store.js";
import type { RepoGuard } from "./repo-guard.js";

/**
 * `GET /plans/:id`: the full text of a plan, linked from plan statuses and comments. Only a viewer
 * `guard` lets read the plan's repository sees it; others are sent to sign in, or get 404 as for an
 * unknown plan (everyone does when no sign-in is configured: `noSignInGuard`).
 */
export function planRoute(plans: PlanStore, guard: RepoGuard): Router {
  const router = express.Router();
  router.get("/plans/:id", async (req, res) => {
    if (!(await guard(req, res, await plans.repoOf(req.params.id), "plan", false))) return;
    const text = await plans.load(req.params.id);
    if (text === undefined) {
      res.status(404).type("text/plain").send("no such plan (plans are kept for 30 days)\n");
      return;
    }
    res.set({ "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" });
    res.type("text/plain; charset=utf-8").send(text);
  });
  return router;
}
