//! `droneid devices`: the SoapySDR devices this machine sees, with their ranges.

use clap::Args;

use crate::common::CliError;

#[derive(Args, Debug)]
pub struct DevicesArgs {
    /// Only devices matching this SoapySDR device string (e.g. "driver=rtlsdr"); all when omitted.
    #[arg(long, value_name = "ARGS", default_value = "")]
    pub device: String,
    /// Also show SoapySDR's and its modules' informational log lines (warnings and errors are
    /// always shown).
    #[arg(long, short)]
    pub verbose: bool,
}

pub fn run(args: &DevicesArgs) -> Result<(), CliError> {
    droneid_live::route_soapy_log(args.verbose);
    let devices = droneid_live::list_devices(&args.device).map_err(CliError::usage)?;
    print!("{}", droneid_live::devices_table(&devices));
    if devices.is_empty() && !args.device.is_empty() {
        return Err(CliError::usage(format!(
            "no SoapySDR device matches '{}'",
            args.device
        )));
    }
    Ok(())
}
