// Checkpoint interval and effective training time under interruptions.
//
// A job computes for tau between checkpoints, each checkpoint blocks it for delta (the write), and
// interruptions arrive as a Poisson process with mean time M between them; after each one the job
// spends R restarting (detection, rescheduling, reload, warm-up) and recomputes the work since its
// last checkpoint.
//
//   Young (1974), first order:           tau = sqrt(2 delta M)
//   Daly (2006), higher order (delta < 2M):
//       tau = sqrt(2 delta M) [1 + 1/3 sqrt(delta / 2M) + 1/9 (delta / 2M)] - delta,  else tau = M
//   Daly's expected wall time for solve time T_s:
//       T_w = M e^(R/M) (e^((tau + delta)/M) - 1) T_s / tau
//   so the effective training time ratio (ETTR, useful compute over wall time) is
//       ETTR = tau / (M e^(R/M) (e^((tau + delta)/M) - 1))
// J. W. Young, "A first order approximation to the optimum checkpoint interval", CACM 17(9), 1974;
// J. T. Daly, "A higher order estimate of the optimum checkpoint interval for restart dumps",
// Future Generation Computer Systems 22(3), 2006.
// All durations in seconds; every argument positive and finite (R may be 0), else InternalError.
#pragma once

namespace firstwall::reliability {

double YoungIntervalS(double write_s, double mtbi_s);
double DalyIntervalS(double write_s, double mtbi_s);
// Expected ETTR for compute interval tau between checkpoints.
double DalyEttr(double interval_s, double write_s, double restart_s, double mtbi_s);

}  // namespace firstwall::reliability
