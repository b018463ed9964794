use clap::Parser;

use auth_service::{
    cli,
    clock::Clock,
    config::{Cli, Command},
    startup::{self, Application},
    telemetry,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Cli { config, command } = Cli::parse();
    telemetry::init(config.log_format);
    config.validate()?;
    match command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(config, Clock::system()).await?;
            app.run_until(startup::shutdown_signal()).await
        }
        Command::Migrate { action } => startup::migrate(&config, action).await,
        Command::Users { command } => cli::users(&config, command).await,
    }
}
