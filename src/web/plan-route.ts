import express, { type Router } from "express";
import type { PlanStore } from "../plan/plan-store.js";

/** `GET /plans/:id`: the full text of a plan, linked from plan statuses and comments. */
export function planRoute(plans: PlanStore): Router {
  const router = express.Router();
  router.get("/plans/:id", async (req, res) => {
    const text = await plans.load(req.params.id);
    if (text === undefined) {
      res.status(404).type("text/plain").send("no such plan (plans are kept for 30 days)\n");
      return;
    }
    res.type("text/plain; charset=utf-8").send(text);
  });
  return router;
}
