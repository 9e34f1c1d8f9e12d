// Preferences: theme, what happens to the local server when the console exits. Stored in QSettings.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>

class QComboBox;
class QCheckBox;

namespace dispatch::views {

struct ConsoleSettings
{
    static constexpr const char *kTheme = "appearance/theme";
    static constexpr const char *kKeepServerRunning = "localServer/keepRunningOnExit";
    static constexpr const char *kStartServer = "localServer/startOnLaunch";
};

class SettingsDialog : public QDialog
{
    Q_OBJECT
public:
    explicit SettingsDialog(QWidget *parent = nullptr);

    void accept() override; // writes QSettings and applies the theme

signals:
    void themeChanged();

private:
    QComboBox *m_theme = nullptr;
    QCheckBox *m_keepRunning = nullptr;
    QCheckBox *m_startServer = nullptr;
};

} // namespace dispatch::views
