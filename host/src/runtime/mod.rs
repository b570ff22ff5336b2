//! The wasmtime runtime: one engine per process, each component compiled once and
//! pre-instantiated, configured instances kept warm per domain, and every call bounded in CPU,
//! memory, time and output. A component that traps, loops or runs out of memory costs one
//! check's result; the host carries on.

mod bindings;
mod state;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Cache, CacheConfig, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store,
    UpdateDeadline,
};

pub use bindings::types::{
    Finding, Header, HeaderField, IpAddress, Message, Session, Settings, SettingsFile, Verdict,
};
use bindings::{connection::ConnectionPluginPre, content::ContentPluginPre};
pub use state::{HostState, Services, ip_from_wit, ip_to_wit};

use crate::log::Level;

/// How often the epoch ticks; CPU budgets are checked at this granularity.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Bounds applied to every call into a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// CPU time a call may spend inside the component (host I/O waits not counted).
    pub cpu: Duration,
    /// Wall-clock cap on a call, host I/O included.
    pub timeout: Duration,
    /// Cap on each linear memory, in bytes.
    pub memory_bytes: usize,
    /// Log lines kept per call.
    pub max_log_lines: usize,
    /// Characters kept per log line.
    pub max_line_len: usize,
    /// Bytes of stderr (panic messages) kept per instance.
    pub max_stderr_bytes: usize,
    /// Whether verbose lines are kept (components skip them otherwise).
    pub verbose: bool,
    /// Calls after which a warm instance is recycled (its memory never shrinks).
    pub max_uses: u32,
    /// Idle configured instances kept per check.
    pub max_idle: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu: Duration::from_secs(2),
            timeout: Duration::from_secs(60),
            memory_bytes: 256 << 20,
            max_log_lines: 1000,
            max_line_len: 1000,
            max_stderr_bytes: 64 << 10,
            verbose: true,
            max_uses: 10_000,
            max_idle: 8,
        }
    }
}

/// Which stage a component serves, told by the world it exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `connection-plugin`: runs on the session, may use DNS and callouts.
    Connection,
    /// `content-plugin`: runs on the parsed message, no network.
    Content,
}

#[derive(Clone)]
enum Pre {
    Connection(ConnectionPluginPre<HostState>),
    Content(ContentPluginPre<HostState>),
}

/// A compiled, pre-instantiated component.
pub struct Loaded {
    path: PathBuf,
    modified: Option<SystemTime>,
    pre: Pre,
}

impl Loaded {
    /// The stage this component serves.
    pub fn stage(&self) -> Stage {
        match self.pre {
            Pre::Connection(_) => Stage::Connection,
            Pre::Content(_) => Stage::Content,
        }
    }
}

/// The process's wasmtime engine, linkers and compiled components.
pub struct Runtime {
    engine: Engine,
    connection_linker: Linker<HostState>,
    content_linker: Linker<HostState>,
    components: Mutex<HashMap<PathBuf, Arc<Loaded>>>,
}

impl Runtime {
    /// Builds the engine (pooling allocator, epoch interruption, component-model concurrency
    /// off) and starts the epoch ticker. `max_instances` sizes the instance pool; with a
    /// `cache_dir`, compiled components are kept there and reused across processes.
    pub fn new(max_instances: u32, cache_dir: Option<&Path>) -> anyhow::Result<Arc<Runtime>> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(max_instances)
            .total_core_instances(max_instances * 4)
            .total_memories(max_instances * 2)
            .total_tables(max_instances * 4)
            .total_stacks(max_instances)
            .max_memory_size(Limits::default().memory_bytes.max(1 << 30))
            .max_unused_warm_slots(max_instances.min(100))
            // Reset what an instance touched with memset instead of madvise: most of a
            // check's pages are touched on every message, so this is the cheaper reset.
            .linear_memory_keep_resident(2 << 20)
            .table_keep_resident(64 << 10)
            .async_stack_keep_resident(256 << 10);
        let mut config = Config::new();
        config
            .epoch_interruption(true)
            .concurrency_support(false)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        if std::env::var_os("ANTISPAM_PERFMAP").is_some() {
            // Names the components' compiled functions for `perf` (/tmp/perf-<pid>.map).
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        if let Some(dir) = cache_dir {
            let mut cache = CacheConfig::new();
            cache.with_directory(std::path::absolute(dir)?);
            config.cache(Some(Cache::new(cache).map_err(wt)?));
        }
        let engine = Engine::new(&config).map_err(wt)?;
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })?;
        let mut connection_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut connection_linker).map_err(wt)?;
        bindings::connection::ConnectionPlugin::add_to_linker::<_, HasSelf<HostState>>(
            &mut connection_linker,
            |s| s,
        )
        .map_err(wt)?;
        let mut content_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut content_linker).map_err(wt)?;
        bindings::content::ContentPlugin::add_to_linker::<_, HasSelf<HostState>>(
            &mut content_linker,
            |s| s,
        )
        .map_err(wt)?;
        Ok(Arc::new(Runtime {
            engine,
            connection_linker,
            content_linker,
            components: Mutex::new(HashMap::new()),
        }))
    }

    /// Compiles and pre-instantiates the component at `path`, once per process (again only
    /// when the file changed). The world it exports decides its stage; a component that fits
    /// neither world is rejected here, never in the middle of a message.
    pub fn load(&self, path: &Path) -> anyhow::Result<Arc<Loaded>> {
        let modified = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            .modified()
            .ok();
        let mut cache = self.components.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(loaded) = cache.get(path).filter(|l| l.modified == modified) {
            return Ok(loaded.clone());
        }
        let component = Component::from_file(&self.engine, path)
            .map_err(|e| anyhow::anyhow!("{}: {e:#}", path.display()))?;
        let pre = self
            .connection_linker
            .instantiate_pre(&component)
            .and_then(ConnectionPluginPre::new)
            .map(Pre::Connection)
            .or_else(|_| {
                self.content_linker
                    .instantiate_pre(&component)
                    .and_then(ContentPluginPre::new)
                    .map(Pre::Content)
            })
            .map_err(|e| {
                anyhow::anyhow!(
                    "{} is neither a connection-plugin nor a content-plugin component: {e:#}",
                    path.display()
                )
            })?;
        let loaded = Arc::new(Loaded {
            path: path.to_path_buf(),
            modified,
            pre,
        });
        cache.insert(path.to_path_buf(), loaded.clone());
        Ok(loaded)
    }
}

/// wasmtime's error as an `anyhow` error.
fn wt(e: wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{e:#}")
}

/// A check configured for one domain: a component plus its settings, with configured
/// instances kept warm between messages.
pub struct Check {
    /// Display name used in log lines.
    pub name: String,
    /// Connection or content.
    pub stage: Stage,
    /// How many of the domain's M checks this check counts for (connection checks).
    pub counted: u32,
    runtime: Arc<Runtime>,
    loaded: Arc<Loaded>,
    settings: Settings,
    services: Services,
    limits: Limits,
    idle: Mutex<Vec<Warm>>,
}

/// A configured instance.
struct Warm {
    store: Store<HostState>,
    instance: Instance,
    uses: u32,
}

enum Instance {
    Connection(bindings::connection::ConnectionPlugin),
    Content(bindings::content::ContentPlugin),
}

/// The arguments of one `check` call.
#[derive(Clone, Copy)]
enum Call<'a> {
    Connection(&'a Session),
    Content(&'a Session, &'a Message),
}

impl Warm {
    async fn call(&mut self, call: Call<'_>) -> wasmtime::Result<Verdict> {
        match (&self.instance, call) {
            (Instance::Connection(i), Call::Connection(session)) => {
                i.antispam_plugin_connection_check()
                    .call_check(&mut self.store, session)
                    .await
            }
            (Instance::Content(i), Call::Content(session, message)) => {
                i.antispam_plugin_content_check()
                    .call_check(&mut self.store, session, message)
                    .await
            }
            _ => Err(wasmtime::Error::msg("the check does not serve this stage")),
        }
    }
}

/// What one call into a check gave: its verdict (or why it has none) and its log lines.
#[derive(Debug)]
pub struct Run {
    /// The verdict, or the error that cost this check its result (trap, timeout, ...).
    pub verdict: Result<Verdict, String>,
    /// Lines the component logged during the call.
    pub log: Vec<(Level, String)>,
    /// Wall time of the call, instantiation and host I/O included.
    pub elapsed: Duration,
}

impl Check {
    /// Configures the component for a domain: instantiates it and calls `configure`. The
    /// returned lines are what the component logged while loading its settings.
    pub async fn configure(
        runtime: &Arc<Runtime>,
        name: String,
        loaded: Arc<Loaded>,
        settings: Settings,
        services: Services,
        limits: Limits,
    ) -> Result<(Check, Vec<(Level, String)>), String> {
        let mut check = Check {
            name,
            stage: loaded.stage(),
            counted: 0,
            runtime: runtime.clone(),
            loaded,
            settings,
            services,
            limits,
            idle: Mutex::new(Vec::new()),
        };
        let (warm, counted, log) = check.instantiate().await?;
        check.counted = counted;
        if check.limits.max_idle > 0 {
            check
                .idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(warm);
        }
        Ok((check, log))
    }

    /// The component file this check runs.
    pub fn path(&self) -> &Path {
        &self.loaded.path
    }

    /// Runs the connection check for one session.
    pub async fn run_connection(&self, session: &Session) -> Run {
        self.run(Call::Connection(session)).await
    }

    /// Runs the content check for one message.
    pub async fn run_content(&self, session: &Session, message: &Message) -> Run {
        self.run(Call::Content(session, message)).await
    }

    async fn run(&self, call: Call<'_>) -> Run {
        let start = std::time::Instant::now();
        let warm = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut warm = match warm {
            Some(w) => w,
            None => match self.instantiate().await {
                Ok((w, _, _)) => w,
                Err(e) => {
                    return Run {
                        verdict: Err(e),
                        log: Vec::new(),
                        elapsed: start.elapsed(),
                    };
                }
            },
        };
        warm.store.data_mut().begin_call();
        warm.store.set_epoch_deadline(1);
        let outcome = tokio::time::timeout(self.limits.timeout, warm.call(call)).await;
        let log = warm.store.data_mut().take_log();
        let verdict = match outcome {
            Ok(Ok(verdict)) => {
                warm.uses += 1;
                if warm.uses < self.limits.max_uses {
                    let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
                    if idle.len() < self.limits.max_idle {
                        idle.push(warm);
                    }
                }
                Ok(verdict)
            }
            Ok(Err(trap)) => Err(self.describe_trap(&warm, &trap)),
            Err(_) => Err(format!("timed out after {:?}", self.limits.timeout)),
        };
        Run {
            verdict,
            log,
            elapsed: start.elapsed(),
        }
    }

    /// Explains a trap, with the guest's panic message when it printed one.
    fn describe_trap(&self, warm: &Warm, trap: &wasmtime::Error) -> String {
        let mut why = match trap.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::Interrupt) => {
                format!("exceeded its CPU budget of {:?}", self.limits.cpu)
            }
            Some(t) => format!("trapped: {t}"),
            None => trap.root_cause().to_string(),
        };
        let stderr = warm.store.data().stderr.contents();
        let stderr = String::from_utf8_lossy(&stderr);
        let mut lines = stderr.lines().skip_while(|l| !l.contains("panicked at"));
        if let Some(message) = lines.nth(1) {
            why.push_str(&format!(" (panic: {})", message.trim()));
        }
        why
    }

    /// Instantiates the component and configures it with this check's settings.
    async fn instantiate(&self) -> Result<(Warm, u32, Vec<(Level, String)>), String> {
        let label = self.loaded.path.display().to_string();
        let mut store = Store::new(
            &self.runtime.engine,
            HostState::new(self.services.clone(), &self.limits),
        );
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_callback(|ctx| {
            if ctx.data().within_cpu_budget() {
                Ok(UpdateDeadline::YieldCustom(1, ctx.data().timed_yield()))
            } else {
                Ok(UpdateDeadline::Interrupt)
            }
        });
        store.set_epoch_deadline(1);
        store.data_mut().begin_call();
        let call = async {
            match &self.loaded.pre {
                Pre::Connection(pre) => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    let counted = instance
                        .antispam_plugin_connection_check()
                        .call_configure(&mut store, &self.settings)
                        .await?;
                    Ok::<_, wasmtime::Error>(counted.map(|n| (Instance::Connection(instance), n)))
                }
                Pre::Content(pre) => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    let configured = instance
                        .antispam_plugin_content_check()
                        .call_configure(&mut store, &self.settings)
                        .await?;
                    Ok(configured.map(|()| (Instance::Content(instance), 0)))
                }
            }
        };
        let result = tokio::time::timeout(self.limits.timeout, call).await;
        let log = store.data_mut().take_log();
        let (instance, counted) = match result {
            Ok(Ok(Ok(configured))) => configured,
            Ok(Ok(Err(refused))) => return Err(format!("{}: {refused}", self.name)),
            Ok(Err(trap)) => return Err(format!("{label}: {trap:#}")),
            Err(_) => return Err(format!("{label}: configure timed out")),
        };
        Ok((
            Warm {
                store,
                instance,
                uses: 0,
            },
            counted,
            log,
        ))
    }
}
