//! Status codes (spec §8) and the error type UDFs return.

use std::fmt;

/// The result of `wasinfer_init` and `wasinfer_transform` (spec §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Status {
    /// Success.
    Ok = 0,
    /// The batch could not be transformed (bad data).
    Error = 1,
    /// `wasinfer_init` rejected the configuration.
    InvalidConfig = 2,
    /// The input schema is not one this UDF accepts; the host treats it as
    /// fatal for the stage, not as a bad batch.
    UnsupportedInput = 3,
    /// An allocation failed.
    OutOfMemory = 4,
}

impl Status {
    /// The spec's name of the status, e.g. `"INVALID_CONFIG"`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Error => "ERROR",
            Status::InvalidConfig => "INVALID_CONFIG",
            Status::UnsupportedInput => "UNSUPPORTED_INPUT",
            Status::OutOfMemory => "OUT_OF_MEMORY",
        }
    }

    /// The status for a code; codes the spec does not define read as `Error`.
    pub fn from_code(code: i32) -> Status {
        match code {
            0 => Status::Ok,
            2 => Status::InvalidConfig,
            3 => Status::UnsupportedInput,
            4 => Status::OutOfMemory,
            _ => Status::Error,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error a UDF returns: a non-zero [`Status`] and a message for the host's
/// log and the user. The message SHOULD name the column and row (spec §8);
/// [`Error::at`] and [`Error::in_column`] format them the same way everywhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: String,
}

impl Error {
    /// An error with the given status. `Status::Ok` is turned into
    /// `Status::Error`, since an error must not report success.
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        let status = if status == Status::Ok { Status::Error } else { status };
        Error {
            status,
            message: message.into(),
        }
    }

    /// `ERROR`: the batch could not be transformed.
    #[allow(clippy::self_named_constructors)]
    pub fn error(message: impl Into<String>) -> Error {
        Error::new(Status::Error, message)
    }

    /// `INVALID_CONFIG`: the configuration was rejected.
    pub fn invalid_config(message: impl Into<String>) -> Error {
        Error::new(Status::InvalidConfig, message)
    }

    /// `UNSUPPORTED_INPUT`: the input schema is not one this UDF accepts.
    pub fn unsupported_input(message: impl Into<String>) -> Error {
        Error::new(Status::UnsupportedInput, message)
    }

    /// `OUT_OF_MEMORY`: an allocation failed.
    pub fn out_of_memory(message: impl Into<String>) -> Error {
        Error::new(Status::OutOfMemory, message)
    }

    /// `ERROR` naming a column and a row: `column "c" row 7: message`.
    pub fn at(column: &str, row: usize, message: impl fmt::Display) -> Error {
        Error::error(format!("column {:?} row {}: {}", column, row, message))
    }

    /// An error of the given status naming a column: `column "c": message`.
    pub fn in_column(status: Status, column: &str, message: impl fmt::Display) -> Error {
        Error::new(status, format!("column {:?}: {}", column, message))
    }

    /// The status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `context: ` put before its message.
    pub fn context(mut self, context: impl fmt::Display) -> Error {
        self.message = format!("{}: {}", context, self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::collections::TryReserveError> for Error {
    fn from(e: std::collections::TryReserveError) -> Error {
        Error::out_of_memory(format!("allocating output: {}", e))
    }
}

/// `Result<T, Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
