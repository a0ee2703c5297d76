//! The Lorenz forward model: the ODE integrated with RK4 on a fine step, sampled every
//! `sample_dt`, observed with Gaussian noise. Pure and seeded.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

pub const SIGMA: f64 = 10.0;
pub const RHO: f64 = 28.0;
pub const BETA: f64 = 8.0 / 3.0;

pub type State = [f64; 3];

/// dz/dt of the Lorenz system.
pub fn vector_field(z: State) -> State {
    [
        SIGMA * (z[1] - z[0]),
        z[0] * (RHO - z[2]) - z[1],
        z[0] * z[1] - BETA * z[2],
    ]
}

fn axpy(z: State, a: f64, k: State) -> State {
    [z[0] + a * k[0], z[1] + a * k[1], z[2] + a * k[2]]
}

/// One classical fourth-order Runge–Kutta step of `f` from `z` over `dt`.
pub fn rk4_step(f: impl Fn(State) -> State, z: State, dt: f64) -> State {
    let k1 = f(z);
    let k2 = f(axpy(z, dt / 2.0, k1));
    let k3 = f(axpy(z, dt / 2.0, k2));
    let k4 = f(axpy(z, dt, k3));
    std::array::from_fn(|i| z[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// The exact-as-we-can transition over one sampling interval: `substeps` RK4 steps.
pub fn transition(z: State, sample_dt: f64, substeps: usize) -> State {
    let h = sample_dt / substeps.max(1) as f64;
    (0..substeps.max(1)).fold(z, |z, _| rk4_step(vector_field, z, h))
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SimConfig {
    /// Number of sampled time steps.
    pub steps: usize,
    /// Time between samples (and observations).
    pub sample_dt: f64,
    /// RK4 steps per sample.
    pub substeps: usize,
    /// Standard deviation of the observation noise on each coordinate.
    pub obs_std: f64,
    /// Integration time before the first sample, so the trajectory starts on the attractor.
    pub burn_in_time: f64,
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            steps: 2000,
            sample_dt: 0.05,
            substeps: 10,
            obs_std: 0.5,
            burn_in_time: 10.0,
            seed: 0,
        }
    }
}

/// Limits that keep the simulation meaningful and bounded in memory.
pub const MAX_STEPS: usize = 1_000_000;

impl SimConfig {
    /// Refuses settings that cannot produce a sensible trajectory.
    pub fn validate(&self) -> Result<(), String> {
        if self.steps == 0 || self.steps > MAX_STEPS {
            return Err(format!(
                "steps must be between 1 and {MAX_STEPS}, not {}",
                self.steps
            ));
        }
        if !(self.sample_dt.is_finite() && self.sample_dt > 0.0 && self.sample_dt <= 1.0) {
            return Err(format!(
                "the sampling interval must be in (0, 1], not {}",
                self.sample_dt
            ));
        }
        if self.substeps == 0 || self.substeps > 10_000 {
            return Err(format!(
                "substeps must be between 1 and 10000, not {}",
                self.substeps
            ));
        }
        if !(self.obs_std.is_finite() && self.obs_std >= 0.0 && self.obs_std <= 100.0) {
            return Err(format!(
                "the noise std must be in [0, 100], not {}",
                self.obs_std
            ));
        }
        if !(self.burn_in_time.is_finite() && (0.0..=1000.0).contains(&self.burn_in_time)) {
            return Err(format!(
                "the burn-in time must be in [0, 1000], not {}",
                self.burn_in_time
            ));
        }
        Ok(())
    }
}

/// A sampled trajectory and its noisy observations.
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    pub t: Vec<f64>,
    pub states: Vec<State>,
    pub observations: Vec<State>,
}

/// Simulates one trajectory from a random start near the attractor.
pub fn simulate(config: &SimConfig) -> Result<Trajectory, String> {
    config.validate()?;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let start = Normal::new(0.0, 1.0).map_err(|e| e.to_string())?;
    let mut z: State = [
        1.0 + 5.0 * start.sample(&mut rng),
        1.0 + 5.0 * start.sample(&mut rng),
        25.0 + 5.0 * start.sample(&mut rng),
    ];
    let h = config.sample_dt / config.substeps as f64;
    for _ in 0..(config.burn_in_time / h).round() as usize {
        z = rk4_step(vector_field, z, h);
    }
    let noise = Normal::new(0.0, config.obs_std).map_err(|e| e.to_string())?;
    let mut t = Vec::with_capacity(config.steps);
    let mut states = Vec::with_capacity(config.steps);
    let mut observations = Vec::with_capacity(config.steps);
    for k in 0..config.steps {
        if k > 0 {
            z = transition(z, config.sample_dt, config.substeps);
        }
        t.push(k as f64 * config.sample_dt);
        states.push(z);
        observations.push(std::array::from_fn(|i| z[i] + noise.sample(&mut rng)));
    }
    Ok(Trajectory {
        t,
        states,
        observations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Harmonic oscillator x'' = -x: energy is conserved to RK4's order.
    #[test]
    fn rk4_conserves_the_oscillators_energy_and_tracks_the_exact_solution() {
        let f = |z: State| [z[1], -z[0], 0.0];
        let dt = 0.01;
        let mut z = [1.0, 0.0, 0.0];
        for _ in 0..(10.0 / dt) as usize {
            z = rk4_step(f, z, dt);
        }
        let energy = 0.5 * (z[0] * z[0] + z[1] * z[1]);
        assert!((energy - 0.5).abs() < 1e-9, "energy drifted to {energy}");
        assert!((z[0] - 10f64.cos()).abs() < 1e-8);
        assert!((z[1] + 10f64.sin()).abs() < 1e-8);
    }

    #[test]
    fn rk4_is_fourth_order_on_lorenz() {
        let z0 = [1.0, 2.0, 20.0];
        let reference = transition(z0, 0.5, 4000);
        let error = |substeps| {
            let z = transition(z0, 0.5, substeps);
            (0..3)
                .map(|i| (z[i] - reference[i]).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let ratio = error(50) / error(100);
        assert!(
            (12.0..20.0).contains(&ratio),
            "halving the step cut the error {ratio}x, not ~16x"
        );
    }

    #[test]
    fn simulation_is_seeded_and_noise_has_the_requested_spread() {
        let config = SimConfig {
            steps: 4000,
            ..SimConfig::default()
        };
        let a = simulate(&config).expect("simulate");
        assert_eq!(a, simulate(&config).expect("simulate"));
        let b = simulate(&SimConfig {
            seed: 1,
            ..config.clone()
        })
        .expect("simulate");
        assert_ne!(a.states[0], b.states[0]);
        let residuals: Vec<f64> = a
            .states
            .iter()
            .zip(&a.observations)
            .flat_map(|(s, o)| (0..3).map(move |i| o[i] - s[i]))
            .collect();
        let var = residuals.iter().map(|r| r * r).sum::<f64>() / residuals.len() as f64;
        assert!((var.sqrt() - 0.5).abs() < 0.02, "noise std {}", var.sqrt());
        assert!((a.t[1] - 0.05).abs() < 1e-12);
        // On the attractor: bounded, z positive on average.
        assert!(a.states.iter().all(|s| s.iter().all(|v| v.abs() < 60.0)));
    }

    #[test]
    fn absurd_settings_are_refused_with_a_reason() {
        for bad in [
            SimConfig {
                steps: 0,
                ..SimConfig::default()
            },
            SimConfig {
                sample_dt: f64::NAN,
                ..SimConfig::default()
            },
            SimConfig {
                obs_std: -1.0,
                ..SimConfig::default()
            },
            SimConfig {
                substeps: 0,
                ..SimConfig::default()
            },
        ] {
            assert!(simulate(&bad).is_err());
        }
    }
}
