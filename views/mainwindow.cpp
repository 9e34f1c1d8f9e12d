// SPDX-License-Identifier: GPL-3.0-or-later
#include "mainwindow.h"

#include "apispanel.h"
#include "accountwidget.h"
#include "resourceview.h"
#include "contextbanner.h"
#include "contextstore.h"
#include "commandpalette.h"
#include "contextswitcher.h"
#include "dashboardpanel.h"
#include "demo.h"
#include "eventspanel.h"
#include "functionsmodel.h"
#include "functionspanel.h"
#include "imagespanel.h"
#include "localserver.h"
#include "logmodel.h"
#include "messagebar.h"
#include "panel.h"
#include "restclient.h"
#include "roles.h"
#include "runspanel.h"
#include "secretspanel.h"
#include "serverpanel.h"
#include "settingsdialog.h"
#include "theme.h"
#include "watchclient.h"
#include "workspace.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QListView>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QShortcut>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QVBoxLayout>

namespace dispatch::views {

QColor contextDisplayColor(const QString &name, const QString &storedColor, bool isLocal)
{
    const QColor stored(storedColor);
    if (!storedColor.isEmpty() && stored.isValid())
        return stored;
    if (isLocal)
        return QColor(0x2e, 0x7d, 0x32);
    if (name.contains(QLatin1String("prod"), Qt::CaseInsensitive))
        return QColor(0xc6, 0x28, 0x28);
    return QColor(0x45, 0x5a, 0x7a);
}

MainWindow::MainWindow(Workspace *workspace, models::ContextStore *contexts, models::LocalServer *localServer,
                       models::LogModel *log, QWidget *parent)
    : QMainWindow(parent), m_workspace(workspace), m_contexts(contexts), m_localServer(localServer), m_log(log)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Dispatch Console"));
    m_demo = new Demo(workspace, this);

    auto *central = new QWidget(this);
    auto *outer = new QVBoxLayout(central);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->setSpacing(0);
    m_strip = new ContextBanner(central);
    m_strip->setObjectName(QStringLiteral("contextStrip"));
    outer->addWidget(m_strip);

    auto *split = new QSplitter(Qt::Horizontal, central);
    split->setChildrenCollapsible(false);
    m_nav = new QListWidget(split);
    m_nav->setObjectName(QStringLiteral("navigation"));
    m_nav->setAccessibleName(tr("Navigation"));
    m_nav->setFrameShape(QFrame::NoFrame);
    m_nav->setSpacing(1);
    m_nav->setMinimumWidth(150);
    m_nav->setMaximumWidth(220);
    QFont navFont = m_nav->font();
    navFont.setPointSizeF(navFont.pointSizeF() * 1.05);
    m_nav->setFont(navFont);
    m_stack = new QStackedWidget(split);
    m_stack->setObjectName(QStringLiteral("pages"));

    m_panels = {new FunctionsPanel(workspace, m_demo, m_stack),
                new RunsPanel(workspace, m_stack),
                new ApisPanel(workspace, m_stack),
                new EventsPanel(workspace, m_stack),
                new ImagesPanel(workspace, m_demo, m_stack),
                new SecretsPanel(workspace, m_stack),
                new ServerPanel(workspace, localServer, log, m_stack),
                new DashboardPanel(workspace, m_stack)};
    for (int i = 0; i < m_panels.size(); ++i) {
        Panel *p = m_panels[i];
        m_stack->addWidget(p);
        auto *item = new QListWidgetItem(tr("%1\tCtrl+%2").arg(p->title()).arg(i + 1), m_nav);
        item->setText(p->title());
        item->setToolTip(tr("%1 (Ctrl+%2)").arg(p->title()).arg(i + 1));
        item->setSizeHint(QSize(0, m_nav->fontMetrics().height() + 14));
        auto *sc = new QShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)), this);
        connect(sc, &QShortcut::activated, this, [this, i] { showPage(static_cast<Page>(i)); });
    }
    split->addWidget(m_nav);
    split->addWidget(m_stack);
    split->setStretchFactor(1, 1);
    split->setSizes({170, 1000});
    outer->addWidget(split, 1);
    setCentralWidget(central);

    connect(m_nav, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0 || row >= m_panels.size())
            return;
        m_stack->setCurrentIndex(row);
        m_panels[row]->activate();
        QSettings().setValue(QStringLiteral("window/page"), row);
    });
    connect(static_cast<FunctionsPanel *>(m_panels[FunctionsPage]), &FunctionsPanel::showRunsRequested, this,
            [this](const QString &fn) {
                runsPanel()->showFunction(fn);
                showPage(RunsPage);
            });
    // A chart bucket or an error group (Dashboard, function detail pane): the Runs panel filtered to those runs.
    auto showRuns = [this](const models::RunFilter &filter, const QString &needle) {
        runsPanel()->showRuns(filter, needle);
        showPage(RunsPage);
    };
    connect(dashboardPanel(), &DashboardPanel::runsRequested, this, showRuns);
    connect(functionsPanel(), &FunctionsPanel::runsFilterRequested, this, showRuns);
    connect(static_cast<RunsPanel *>(m_panels[RunsPage]), &RunsPanel::rerunRequested, this,
            [this](const QString &fn, const QString &inputJson) {
                showPage(FunctionsPage);
                functionsPanel()->execFunction(fn, inputJson);
            });

    auto *slash = new QShortcut(QKeySequence(Qt::Key_Slash), this);
    connect(slash, &QShortcut::activated, this, &MainWindow::focusFilter);
    auto *question = new QShortcut(QKeySequence(Qt::Key_Question), this);
    connect(question, &QShortcut::activated, this, &MainWindow::showShortcuts);

    buildMenus();
    // Ctrl+K is also "delete to the end of the line" in every line edit, which would swallow it whenever a filter
    // box has focus; the palette's key wins inside this window (line edits keep Ctrl+K in other windows).
    qApp->installEventFilter(this);
    buildStatusBar();

    connect(m_workspace->client(), &models::RestClient::connectionStateChanged, this,
            &MainWindow::updateConnectionLabel);
    connect(m_workspace->client(), &models::RestClient::serverKindChanged, this, &MainWindow::updateConnectionLabel);
    connect(m_workspace->watch(), &models::WatchClient::stateChanged, this, &MainWindow::updateConnectionLabel);
    if (m_contexts) {
        connect(m_contexts, &models::ContextStore::currentChanged, this, &MainWindow::applyCurrentContext);
        connect(m_contexts, &models::ContextStore::contextChanged, this, [this](const QString &name) {
            if (name == m_contexts->current())
                applyCurrentContext();
        });
    }
    if (m_localServer) {
        connect(m_localServer, &models::LocalServer::stateChanged, this, &MainWindow::updateLocalServerLabel);
        connect(m_localServer, &models::LocalServer::portsChanged, this, [this](quint16 api, quint16 gateway) {
            if (m_contexts)
                m_contexts->setLocalPorts(api, gateway);
            applyCurrentContext();
        });
    }

    applyCurrentContext();
    updateConnectionLabel();
    updateLocalServerLabel();

    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    if (!settings.contains(QStringLiteral("window/geometry")))
        resize(1280, 800);
    const int page = std::clamp(settings.value(QStringLiteral("window/page"), 0).toInt(), 0, int(PageCount) - 1);
    showPage(static_cast<Page>(page));
}

MainWindow::~MainWindow()
{
    QSettings().setValue(QStringLiteral("window/geometry"), saveGeometry());
}

void MainWindow::buildMenus()
{
    auto *file = menuBar()->addMenu(tr("&File"));
    auto *settings = file->addAction(tr("&Settings\u2026"), this, &MainWindow::showSettings);
    settings->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
    settings->setObjectName(QStringLiteral("settingsAction"));
    file->addSeparator();
    auto *quit = file->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows);
    quit->setShortcut(QKeySequence::Quit);

    auto *view = menuBar()->addMenu(tr("&Go"));
    for (int i = 0; i < m_panels.size(); ++i) {
        auto *a = view->addAction(m_panels[i]->title(), this, [this, i] { showPage(static_cast<Page>(i)); });
        a->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)));
        a->setShortcutContext(Qt::WidgetShortcut); // the QShortcut above owns the key; this only shows it
    }

    auto *context = menuBar()->addMenu(tr("&Context"));
    auto *sw = context->addAction(tr("&Switch context\u2026"), this, &MainWindow::showContextSwitcher);
    sw->setObjectName(QStringLiteral("switchContextAction"));
    sw->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L));
    addAction(sw);
    auto *reconnect = context->addAction(tr("&Reconnect"), this, [this] {
        m_workspace->client()->probeNow();
        m_workspace->refreshAll();
    });
    reconnect->setObjectName(QStringLiteral("reconnectAction"));
    auto *moveCookie = context->addAction(tr("Keep the &cookie in the keychain\u2026"), this,
                                          &MainWindow::moveCookieToKeychain);
    moveCookie->setObjectName(QStringLiteral("moveCookieAction"));
    connect(context, &QMenu::aboutToShow, this, [this, moveCookie] {
        const models::Context ctx = m_contexts ? m_contexts->currentContext() : models::Context{};
        const bool has = !ctx.isLocal && !ctx.cookie.isEmpty() && ctx.cookie != QStringLiteral("unset");
        moveCookie->setEnabled(has);
        moveCookie->setToolTip(has ? tr("Moves this context's Dispatch CLI cookie out of config.json")
                                   : tr("This context has no cookie in config.json"));
    });

    auto *demo = menuBar()->addMenu(tr("&Demo"));
    auto *seed = demo->addAction(tr("Seed &images"), m_demo, [this] { m_demo->seedImages(); });
    seed->setObjectName(QStringLiteral("seedImagesAction"));
    auto *setup = demo->addAction(tr("&Set up the walkthrough"), m_demo, [this] { m_demo->setUp(); });
    setup->setObjectName(QStringLiteral("demoSetUpAction"));
    setup->setToolTip(tr("Seeds images and creates hello-world, api-hello, a cron driver and a subscription so runs "
                         "start arriving"));
    auto *teardown = demo->addAction(tr("&Remove the walkthrough"), m_demo, [this] { m_demo->tearDown(); });
    teardown->setObjectName(QStringLiteral("demoTearDownAction"));

    auto *help = menuBar()->addMenu(tr("&Help"));
    auto *keys = help->addAction(tr("&Keyboard shortcuts"), this, &MainWindow::showShortcuts);
    keys->setShortcut(QKeySequence(Qt::Key_Question));
    keys->setShortcutContext(Qt::WidgetShortcut);
    auto *palette = help->addAction(tr("&Command palette\u2026"), this, &MainWindow::showCommandPalette);
    palette->setObjectName(QStringLiteral("commandPaletteAction"));
    palette->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_K));
    addAction(palette);
    help->addAction(tr("&About Dispatch Console"), this, &MainWindow::showAbout);
}

bool MainWindow::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() == QEvent::ShortcutOverride) {
        auto *key = static_cast<QKeyEvent *>(event);
        auto *widget = qobject_cast<QWidget *>(watched);
        if (key->key() == Qt::Key_K && key->modifiers() == Qt::ControlModifier && widget && widget->window() == this) {
            event->ignore(); // not overridden: the shortcut map runs the palette action
            return true;
        }
    }
    return QMainWindow::eventFilter(watched, event);
}

void MainWindow::showCommandPalette()
{
    if (!m_palette)
        m_palette = new CommandPalette(this);
    m_palette->clearEntries();
    // Menu actions, with the menu they live in as the section.
    const auto menus = menuBar()->actions();
    for (QAction *top : menus) {
        QMenu *menu = top->menu();
        if (!menu)
            continue;
        const QString section = top->text().remove(QLatin1Char('&'));
        for (QAction *a : menu->actions()) {
            if (a->isSeparator() || a->menu() || !a->isEnabled())
                continue;
            if (a->objectName() == QLatin1String("commandPaletteAction"))
                continue;
            QString text = a->text().remove(QLatin1Char('&'));
            if (text.endsWith(QChar(0x2026)))
                text.chop(1);
            m_palette->addEntry(section, text, a->shortcut().toString(QKeySequence::NativeText),
                                [action = QPointer<QAction>(a)] {
                                    if (action)
                                        action->trigger();
                                });
        }
    }
    // Every function: opens it on the Functions page.
    const QString fnSection = tr("Function");
    auto *functions = m_workspace->functions();
    for (int row = 0; row < functions->rowCount(); ++row) {
        const QString name = functions->index(row, 0).data(models::KeyRole).toString();
        if (name.isEmpty())
            continue;
        m_palette->addEntry(fnSection, name, {}, [this, name] {
            showPage(FunctionsPage);
            functionsPanel()->view()->selectName(name);
        });
        m_palette->addEntry(tr("Runs of"), name, {}, [this, name] {
            showPage(RunsPage);
            runsPanel()->showFunction(name);
        });
    }
    // Every context but the current one.
    for (const QString &name : m_contexts->names()) {
        if (name == m_contexts->current())
            continue;
        m_palette->addEntry(tr("Switch to context"), name, {}, [this, name] { switchContext(name); });
    }
    m_palette->searchEdit()->clear();
    m_palette->list()->setCurrentIndex(m_palette->list()->model()->index(0, 0));
    const QRect area = geometry();
    m_palette->move(area.x() + (area.width() - m_palette->width()) / 2, area.y() + 60);
    m_palette->show();
    m_palette->raise();
    m_palette->activateWindow();
    m_palette->searchEdit()->setFocus();
}

void MainWindow::buildStatusBar()
{
    auto *bar = statusBar();
    m_contextChip = new QLabel(bar);
    m_contextChip->setObjectName(QStringLiteral("contextChip"));
    m_contextChip->setAutoFillBackground(true);
    m_contextChip->setMargin(2);
    m_contextChip->setIndent(6);
    m_connection = new QLabel(bar);
    m_connection->setObjectName(QStringLiteral("connectionLabel"));
    m_serverState = new QLabel(bar);
    m_serverState->setObjectName(QStringLiteral("localServerLabel"));
    bar->addWidget(m_contextChip);
    bar->addWidget(m_connection, 1);
    m_account = new AccountWidget(bar);
    connect(m_account, &AccountWidget::bearerTokenChanged, this, [this](const QString &context) {
        if (m_contexts && context == m_contexts->current()) {
            applyCurrentContext();
            refreshPermissions();
        }
    });
    connect(m_account, &AccountWidget::cookieChanged, this, [this](const QString &context) {
        if (m_contexts && context == m_contexts->current())
            applyCurrentContext();
    });
    connect(m_account, &AccountWidget::organizationChosen, this, [this](const QString &org) {
        if (!m_contexts)
            return;
        models::Context ctx = m_contexts->currentContext();
        if (ctx.isLocal || ctx.organization == org)
            return;
        ctx.organization = org;
        QString error;
        if (!m_contexts->upsert(ctx, &error))
            statusBar()->showMessage(error, 8000);
        applyCurrentContext();
        refreshPermissions();
    });
    connect(m_workspace->client(), &models::RestClient::unauthorized, m_account, &AccountWidget::unauthorized);
    connect(m_workspace->client(), &models::RestClient::connectionStateChanged, m_account,
            [this](models::RestClient::ConnectionState state) {
                if (state == models::RestClient::ConnectionState::Connected)
                    m_account->recheck();
            });
    bar->addPermanentWidget(m_account);
    bar->addPermanentWidget(m_serverState);
    // Demo progress goes to the Functions page's message bar (the status bar keeps showing the context).
    connect(m_demo, &Demo::progress, this, [this](const QString &text) {
        functionsPanel()->view()->messageBar()->showMessage(MessageBar::Kind::Info, text);
    });
}

bool MainWindow::switchContext(const QString &name, QString *error)
{
    if (!m_contexts)
        return false;
    if (!m_contexts->setCurrent(name, error))
        return false;
    applyCurrentContext();
    return true;
}

void MainWindow::applyCurrentContext()
{
    if (!m_contexts)
        return;
    const models::Context ctx = m_contexts->currentContext();
    const QColor color = contextDisplayColor(ctx.name, ctx.color, ctx.isLocal);
    const QString where = ctx.isLocal ? tr("bundled local server") : ctx.displayUrl();
    m_strip->setContext(ctx.name, color, where);
    m_workspace->setContextInfo(ctx.name, color);
    QPalette chip = m_contextChip->palette();
    chip.setColor(QPalette::Window, color);
    chip.setColor(QPalette::WindowText, readableTextOn(color));
    m_contextChip->setPalette(chip);
    m_contextChip->setText(ctx.name);
    m_contextChip->setToolTip(tr("Current context: %1 (%2). Ctrl+Shift+L switches.").arg(ctx.name, where));
    setWindowTitle(tr("%1 \u2014 Dispatch Console").arg(ctx.name));

    models::Endpoint ep = ctx.endpoint();
    // A logged-in context sends its access token (kept in the keychain, never in config.json).
    m_account->setContext(ctx.name, ep.baseUrl);
    if (!m_account->bearerToken().isEmpty())
        ep.bearerToken = m_account->bearerToken();
    if (ep.cookie.isEmpty() && !m_account->cookie().isEmpty())
        ep.cookie = m_account->cookie(); // moved to the keychain by the user
    const bool changed = m_appliedContext != ctx.name || !(m_workspace->endpoint() == ep);
    if (changed && (ep.isValid() || !ctx.isLocal)) {
        m_appliedContext = ctx.name;
        m_workspace->setEndpoint(ep);
        emit contextSwitched(ctx.name);
    } else if (changed && ctx.isLocal) {
        // The local server has no port yet: clear the old context's rows, the ports arrive with it.
        m_appliedContext = ctx.name;
        m_workspace->setEndpoint(ep);
        emit contextSwitched(ctx.name);
    }
    updateGatewayBase();
    updateConnectionLabel();
    if (changed)
        refreshPermissions();
}

void MainWindow::moveCookieToKeychain()
{
    if (!m_contexts)
        return;
    const models::Context ctx = m_contexts->currentContext();
    if (ctx.isLocal || ctx.cookie.isEmpty())
        return;
    const auto answer = QMessageBox::question(
        this, tr("Keep the cookie in the keychain"),
        tr("Move the login cookie of \u201c%1\u201d from %2 into the system keychain?\n\nThe console keeps "
           "using it; the Dispatch command-line tool will no longer find it and needs \u201cdispatch login\u201d "
           "again.")
            .arg(ctx.name, m_contexts->path()));
    if (answer != QMessageBox::Yes)
        return;
    const QString name = ctx.name;
    m_account->storeCookie(ctx.cookie, [this, name](QString error) {
        if (!error.isEmpty()) {
            QMessageBox::warning(this, tr("Keep the cookie in the keychain"),
                                 tr("The keychain did not take the cookie, so it stays in config.json: %1").arg(error));
            return;
        }
        auto stored = m_contexts->context(name);
        if (!stored)
            return;
        stored->cookie.clear(); // only now: the keychain has it
        QString writeError;
        if (!m_contexts->upsert(*stored, &writeError))
            statusBar()->showMessage(writeError, 8000);
        applyCurrentContext();
    });
}

void MainWindow::refreshPermissions()
{
    m_workspace->client()->get(QStringLiteral("/v1/iam/whoami"), this, [this](const models::ApiResult &r) {
        // Dispatch-Solo answers 501 here, an older server of ours 404: nothing is known, nothing disabled.
        const models::Permissions p =
            r.status == 200 ? models::Permissions::fromWhoami(r.body) : models::Permissions{};
        for (auto *view : findChildren<ResourceView *>())
            view->setPermissions(p);
        m_account->setOrganizations(p.known ? p.orgs : QStringList(), p.org);
    });
}

void MainWindow::updateGatewayBase()
{
    if (!m_contexts)
        return;
    const models::Context ctx = m_contexts->currentContext();
    if (ctx.isLocal) {
        if (m_localServer && m_localServer->gatewayPort() != 0)
            m_workspace->setGatewayBase(QStringLiteral("http://127.0.0.1:%1").arg(m_localServer->gatewayPort()));
        else if (ctx.apiHttpPort != 0)
            m_workspace->setGatewayBase(QStringLiteral("http://127.0.0.1:%1").arg(ctx.apiHttpPort));
        else
            m_workspace->setGatewayBase({});
        return;
    }
    const bool https = ctx.scheme == QLatin1String("https");
    int port = https ? ctx.apiHttpsPort : ctx.apiHttpPort;
    if (port == 0)
        port = https ? 8444 : 8081;
    QUrl url;
    url.setScheme(https ? QStringLiteral("https") : QStringLiteral("http"));
    url.setHost(ctx.host);
    if (!((https && port == 443) || (!https && port == 80)))
        url.setPort(port);
    m_workspace->setGatewayBase(url.toString());
}

QString MainWindow::connectionText() const
{
    return m_connection ? m_connection->text() : QString();
}

QString MainWindow::localServerText() const
{
    return m_serverState ? m_serverState->text() : QString();
}

void MainWindow::updateConnectionLabel()
{
    if (!m_connection)
        return;
    auto *client = m_workspace->client();
    const QString host = client->endpoint().hostAndPort();
    QString text;
    StatusTone tone = StatusTone::Neutral;
    const bool localDown = m_contexts && m_contexts->currentContext().isLocal && m_localServer
                           && !m_localServer->isRunning();
    if (localDown) {
        const bool failed = m_localServer->state() == models::LocalServer::State::Crashed
                            || m_localServer->state() == models::LocalServer::State::Stopped;
        text = failed ? tr("\u2715 The local server is not running \u2014 start it on the Server page (Ctrl+7)")
                      : tr("\u25cb Waiting for the local server\u2026");
        tone = failed ? StatusTone::Bad : StatusTone::Busy;
    } else if (!client->endpoint().isValid()) {
        text = m_contexts && m_contexts->currentContext().isLocal ? tr("\u25cb Waiting for the local server\u2026")
                                                                   : tr("\u25cb No server address");
        tone = StatusTone::Busy;
    } else {
        switch (client->connectionState()) {
        case models::RestClient::ConnectionState::Unknown:
            text = tr("\u25cb Connecting to %1\u2026").arg(host);
            tone = StatusTone::Busy;
            break;
        case models::RestClient::ConnectionState::Connected: {
            const bool live = m_workspace->watch()->isStreaming();
            text = tr("\u25cf Connected to %1%2 \u2014 %3")
                       .arg(host,
                            client->serverVersion().isEmpty() ? QString()
                                                              : tr(" (server %1)").arg(client->serverVersion()),
                            live ? tr("live updates") : tr("polling for changes"));
            tone = StatusTone::Good;
            break;
        }
        case models::RestClient::ConnectionState::Unreachable:
            text = tr("\u2715 Unreachable: %1").arg(client->connectionMessage().isEmpty()
                                                         ? tr("cannot reach %1").arg(host)
                                                         : client->connectionMessage());
            tone = StatusTone::Bad;
            break;
        }
    }
    m_connection->setText(text);
    m_connection->setToolTip(text);
    QPalette p = m_connection->palette();
    const QColor bad = isDarkPalette(palette()) ? QColor(0xff, 0x8a, 0x80) : QColor(0xb0, 0x1c, 0x1c);
    p.setColor(QPalette::WindowText, tone == StatusTone::Bad ? bad : palette().color(QPalette::WindowText));
    m_connection->setPalette(p);
}

void MainWindow::updateLocalServerLabel()
{
    if (!m_serverState)
        return;
    if (!m_localServer) {
        m_serverState->setText(tr("No local server"));
        return;
    }
    QString text;
    switch (m_localServer->state()) {
    case models::LocalServer::State::Stopped:
        text = tr("Local server: stopped");
        break;
    case models::LocalServer::State::Starting:
        text = tr("Local server: starting\u2026");
        break;
    case models::LocalServer::State::Running:
        text = tr("Local server: running on ports %1 / %2%3")
                   .arg(m_localServer->apiPort())
                   .arg(m_localServer->gatewayPort())
                   .arg(m_localServer->isAttached() ? tr(" (shared)") : QString());
        break;
    case models::LocalServer::State::Crashed:
        text = tr("Local server: crashed \u2014 %1").arg(m_localServer->lastError());
        break;
    case models::LocalServer::State::Stopping:
        text = tr("Local server: stopping\u2026");
        break;
    }
    m_serverState->setText(text);
    m_serverState->setToolTip(text);
    updateGatewayBase();
    updateConnectionLabel();
}

void MainWindow::showPage(Page page)
{
    m_nav->setCurrentRow(page);
}

MainWindow::Page MainWindow::currentPage() const
{
    return static_cast<Page>(m_stack->currentIndex());
}

Panel *MainWindow::panel(Page page) const
{
    return m_panels.value(page);
}

FunctionsPanel *MainWindow::functionsPanel() const
{
    return static_cast<FunctionsPanel *>(m_panels[FunctionsPage]);
}
RunsPanel *MainWindow::runsPanel() const
{
    return static_cast<RunsPanel *>(m_panels[RunsPage]);
}
ApisPanel *MainWindow::apisPanel() const
{
    return static_cast<ApisPanel *>(m_panels[ApisPage]);
}
EventsPanel *MainWindow::eventsPanel() const
{
    return static_cast<EventsPanel *>(m_panels[EventsPage]);
}
ImagesPanel *MainWindow::imagesPanel() const
{
    return static_cast<ImagesPanel *>(m_panels[ImagesPage]);
}
SecretsPanel *MainWindow::secretsPanel() const
{
    return static_cast<SecretsPanel *>(m_panels[SecretsPage]);
}
ServerPanel *MainWindow::serverPanel() const
{
    return static_cast<ServerPanel *>(m_panels[ServerPage]);
}
DashboardPanel *MainWindow::dashboardPanel() const
{
    return static_cast<DashboardPanel *>(m_panels[DashboardPage]);
}

void MainWindow::focusFilter()
{
    if (auto *p = m_panels.value(m_stack->currentIndex())) {
        if (QLineEdit *e = p->filterEdit()) {
            e->setFocus(Qt::ShortcutFocusReason);
            e->selectAll();
        }
    }
}

QList<ShortcutEntry> MainWindow::shortcuts() const
{
    QList<ShortcutEntry> out;
    const QString nav = tr("Navigation");
    for (int i = 0; i < m_panels.size(); ++i)
        out.append({nav, QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)),
                    tr("Go to %1").arg(m_panels[i]->title())});
    out.append({nav, QKeySequence(Qt::CTRL | Qt::Key_K), tr("Command palette: every action, page, function and context")});
    out.append({nav, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L), tr("Switch context")});
    out.append({nav, QKeySequence(Qt::Key_Slash), tr("Filter the current table")});
    out.append({nav, QKeySequence(Qt::Key_Question), tr("Show this list")});
    const QString tables = tr("Tables");
    out.append({tables, QKeySequence::New, tr("Create")});
    out.append({tables, QKeySequence(Qt::CTRL | Qt::Key_E), tr("Edit the selected item")});
    out.append({tables, QKeySequence::Delete, tr("Delete the selected items (one confirmation)")});
    out.append({tables, QKeySequence::Refresh, tr("Refresh")});
    out.append({tables, QKeySequence(Qt::CTRL | Qt::Key_R), tr("Functions: run the selected function")});
    out.append({tables, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E), tr("Functions: open the code editor")});
    out.append({tables, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N), tr("Functions: new function from a template")});
    const QString logs = tr("Server log");
    out.append({logs, QKeySequence::Find, tr("Search the log")});
    out.append({logs, QKeySequence::FindNext, tr("Next match")});
    out.append({logs, QKeySequence::FindPrevious, tr("Previous match")});
    const QString app = tr("Application");
    out.append({app, QKeySequence(Qt::CTRL | Qt::Key_Comma), tr("Settings")});
    out.append({app, QKeySequence::Quit, tr("Quit")});
    return out;
}

void MainWindow::showSettings()
{
    SettingsDialog dialog(this);
    connect(&dialog, &SettingsDialog::themeChanged, this, [this] {
        applyCurrentContext(); // colours derived from the palette
        updateConnectionLabel();
    });
    if (dialog.exec() == QDialog::Accepted && m_localServer)
        m_localServer->setLeaveRunning(
            QSettings().value(QLatin1String(ConsoleSettings::kKeepServerRunning), false).toBool());
}

void MainWindow::showShortcuts()
{
    ShortcutsDialog dialog(shortcuts(), this);
    dialog.exec();
}

void MainWindow::showContextSwitcher()
{
    if (!m_contexts)
        return;
    ContextSwitcher dialog(m_contexts, this);
    if (dialog.exec() != QDialog::Accepted || dialog.selectedName().isEmpty())
        return;
    QString error;
    if (!switchContext(dialog.selectedName(), &error))
        QMessageBox::warning(this, tr("Switch context"), error);
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About Dispatch Console"),
                       tr("<h3>Dispatch Console %1</h3><p>Commit %2</p><p>A desktop console for Dispatch functions "
                          "with a bundled local Dispatch server.</p><p>Licensed under the GNU General Public "
                          "License, version 3 or later.</p>")
                           .arg(QStringLiteral(DISPATCH_VERSION_STRING), QStringLiteral(DISPATCH_GIT_COMMIT)));
}

void MainWindow::changeEvent(QEvent *event)
{
    QMainWindow::changeEvent(event);
    // A theme change: colours derived from the palette (strip text, status colours) are computed again.
    if (event->type() == QEvent::ApplicationPaletteChange || event->type() == QEvent::PaletteChange) {
        if (m_strip && !m_inPaletteChange) {
            m_inPaletteChange = true;
            applyCurrentContext();
            m_inPaletteChange = false;
        }
    }
}

void MainWindow::raiseWindow()
{
    if (isMinimized())
        showNormal();
    show();
    raise();
    activateWindow();
}

} // namespace dispatch::views
