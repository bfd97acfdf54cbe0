//! [`Collective`] on MPI, through the `mpi` crate (feature `mpi`).

use mpi::collective::{CommunicatorCollectives, Root};
use mpi::environment::Universe;
use mpi::topology::{Communicator, SimpleCommunicator};

use super::Collective;
use crate::{Error, Result};

/// The processes of an MPI job (`MPI_COMM_WORLD`), started by `mpiexec -n
/// P`. MPI is initialised by [`Mpi::init`] and finalised when this is
/// dropped; a process initialises it once.
///
/// ```text
/// let world = Mpi::init()?;
/// println!("process {} of {}", world.rank(), world.size());
/// ```
pub struct Mpi {
    world: SimpleCommunicator,
    // Dropped last: finalises MPI.
    _universe: Universe,
}

impl Mpi {
    /// Initialises MPI and returns its world.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (`distributed`) if MPI was initialised
    /// already in this process.
    ///
    /// A panic in this process from then on prints its message, then ends
    /// every process of the job (`MPI_Abort`), so that none is left
    /// waiting in an exchange for this one.
    pub fn init() -> Result<Self> {
        let universe = mpi::initialize().ok_or_else(|| Error::InvalidSetting {
            name: "distributed",
            message: "MPI is initialised already in this process: call `Mpi::init` once".into(),
        })?;
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            report(info);
            eprintln!("macrograd: a process panicked; ending every process of the MPI job");
            // SAFETY: MPI was initialised above (the hook is installed
            // after it); MPI_Abort may be called from any thread at any
            // time after MPI_Init and does not return.
            unsafe {
                mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, 101);
            }
        }));
        Ok(Mpi {
            world: universe.world(),
            _universe: universe,
        })
    }

    /// Ends every process of the job with `code` (`MPI_Abort`): for a
    /// process that cannot go on, so that none is left waiting.
    pub fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }
}

impl std::fmt::Debug for Mpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mpi")
            .field("rank", &self.rank())
            .field("size", &self.size())
            .finish()
    }
}

impl Collective for Mpi {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
    }

    fn all_gather(&self, local: &[u8], all: &mut [u8]) {
        self.world.all_gather_into(local, all);
    }

    fn all_to_all(&self, send: &[u8], received: &mut [u8]) {
        self.world.all_to_all_into(send, received);
    }

    fn broadcast(&self, root: usize, buffer: &mut [u8]) {
        self.world
            .process_at_rank(root as i32)
            .broadcast_into(buffer);
    }
}
