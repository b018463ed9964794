use clap::Parser;

use auth_service::{
    cli,
    clock::Clock,
    config::{Cli, Command},
    startup::{self, Application},
    telemetry::{self, LogTo},
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Cli { config, command } = Cli::parse();
    let command = command.unwrap_or(Command::Serve);
    let log_to = if matches!(command, Command::Serve) {
        LogTo::Stdout
    } else {
        LogTo::Stderr
    };
    telemetry::init(config.server.log_format, log_to);
    config.validate()?;
    match command {
        Command::Serve => {
            let app = Application::build(config, Clock::system()).await?;
            app.run_until(startup::shutdown_signal()).await
        }
        Command::Migrate { action } => startup::migrate(&config, action).await,
        Command::Users { command } => cli::users(&config, command).await,
        Command::Keys { command } => cli::keys(&config, command).await,
        Command::Cleanup => cli::cleanup(&config).await,
    }
}
